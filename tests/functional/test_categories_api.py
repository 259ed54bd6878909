"""docs/api.md Categories, through HTTP on PostgreSQL: every endpoint with its success shape and error codes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import api_admin, api_category, api_user

BASE = "/api/v1/admin/categories"
NODE_KEYS = {"id", "name", "slug", "parent_id", "position", "hidden"}


@pytest.fixture
async def admin(client: Any, sessions: Any) -> dict[str, Any]:
    return await api_admin(client, sessions)


@pytest.fixture
async def tree(client: Any, admin: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Electronics ─┬─ Phones ── Used;  Electronics ── Computers;  Books."""
    e = await api_category(client, admin, "数码 Electronics")
    p = await api_category(client, admin, "Phones", e["id"])
    c = await api_category(client, admin, "Computers", e["id"])
    u = await api_category(client, admin, "Used", p["id"])
    b = await api_category(client, admin, "Books")
    return {"electronics": e, "phones": p, "computers": c, "used": u, "books": b}


async def public_tree(client: Any, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/categories", headers=headers or {})
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


def names(nodes: list[dict[str, Any]]) -> list[Any]:
    return [(n["name"], names(n["children"])) if n["children"] else n["name"] for n in nodes]


# --- GET /categories ---------------------------------------------------------------------------------------------


async def test_get_categories_is_a_nested_tree_of_roots(client: Any, tree: dict[str, Any]) -> None:
    roots = await public_tree(client)
    assert names(roots) == [("数码 Electronics", [("Phones", ["Used"]), "Computers"]), "Books"]
    e = roots[0]
    assert set(e) == NODE_KEYS | {"children"}
    assert e == {**tree["electronics"], "children": e["children"]}
    assert e["children"][0]["parent_id"] == e["id"]


async def test_hidden_categories_only_for_admins(client: Any, admin: dict[str, Any], tree: dict[str, Any]) -> None:
    r = await client.patch(f"{BASE}/{tree['phones']['id']}", json={"hidden": True}, headers=admin["headers"])
    assert r.status_code == 200
    assert r.json()["hidden"] is True
    assert names(await public_tree(client)) == [("数码 Electronics", ["Computers"]), "Books"]
    user = await api_user(client)
    assert names(await public_tree(client, user["headers"])) == [("数码 Electronics", ["Computers"]), "Books"]
    full = await public_tree(client, admin["headers"])
    assert names(full) == [("数码 Electronics", [("Phones", ["Used"]), "Computers"]), "Books"]
    assert full[0]["children"][0]["hidden"] is True
    r = await client.patch(f"{BASE}/{tree['phones']['id']}", json={"hidden": False}, headers=admin["headers"])
    assert names(await public_tree(client))[0] == ("数码 Electronics", [("Phones", ["Used"]), "Computers"])


# --- POST /admin/categories --------------------------------------------------------------------------------------


async def test_create_returns_201_node(client: Any, admin: dict[str, Any]) -> None:
    r = await client.post(BASE, json={"name": "数码 Electronics", "parent_id": None}, headers=admin["headers"])
    assert r.status_code == 201
    body = r.json()
    assert set(body) == NODE_KEYS
    assert body["name"] == "数码 Electronics"
    assert body["slug"] == "electronics"
    assert (body["parent_id"], body["position"], body["hidden"]) == (None, 0, False)
    r = await client.post(BASE, json={"name": "手机", "parent_id": body["id"]}, headers=admin["headers"])
    assert r.status_code == 201
    assert r.json()["slug"] == f"cat-{r.json()['id']}"
    assert r.json()["parent_id"] == body["id"]


async def test_create_requires_an_admin(client: Any) -> None:
    r = await client.post(BASE, json={"name": "Nope", "parent_id": None})
    assert r.status_code == 401
    user = await api_user(client)
    r = await client.post(BASE, json={"name": "Nope", "parent_id": None}, headers=user["headers"])
    assert r.status_code == 403
    assert await public_tree(client) == []


async def test_create_duplicate_sibling_is_409(client: Any, admin: dict[str, Any], tree: dict[str, Any]) -> None:
    for name in ("phones", "  PHONES "):
        r = await client.post(BASE, json={"name": name, "parent_id": tree["electronics"]["id"]},
                              headers=admin["headers"])
        assert r.status_code == 409
        assert "already exists" in r.json()["detail"]
    r = await client.post(BASE, json={"name": "Phones", "parent_id": tree["books"]["id"]}, headers=admin["headers"])
    assert r.status_code == 201  # the same name elsewhere is fine


@pytest.mark.parametrize("payload", [
    {"name": "x" * 61, "parent_id": None},
    {"name": "", "parent_id": None},
    {"name": "   ", "parent_id": None},
    {"name": "Orphan", "parent_id": 999_999},
    {"parent_id": None},
    {"name": 5, "parent_id": None},
    {"name": "Bad parent", "parent_id": "one"},
])
async def test_create_invalid_input_is_4xx_and_creates_nothing(client: Any, admin: dict[str, Any],
                                                               payload: dict[str, Any]) -> None:
    r = await client.post(BASE, json=payload, headers=admin["headers"])
    assert r.status_code == 400, r.text
    assert r.json()["detail"]
    assert await public_tree(client, admin["headers"]) == []


async def test_depth_limit(client: Any, admin: dict[str, Any]) -> None:
    parent = None
    for level in range(1, 7):
        parent = await api_category(client, admin, f"Level {level}", parent["id"] if parent else None)
    assert parent is not None
    r = await client.post(BASE, json={"name": "Level 7", "parent_id": parent["id"]}, headers=admin["headers"])
    assert r.status_code == 409
    assert "6 levels" in r.json()["detail"]


# --- PATCH /admin/categories/{id} --------------------------------------------------------------------------------


async def test_patch_rename_move_reorder(client: Any, admin: dict[str, Any], tree: dict[str, Any]) -> None:
    phones = tree["phones"]["id"]
    r = await client.patch(f"{BASE}/{phones}", json={"name": "Mobile phones"}, headers=admin["headers"])
    assert r.status_code == 200
    assert r.json() == {**tree["phones"], "name": "Mobile phones"}  # absent parent_id: stays where it is
    r = await client.patch(f"{BASE}/{phones}", json={"parent_id": tree["books"]["id"]}, headers=admin["headers"])
    assert r.status_code == 200
    assert r.json()["parent_id"] == tree["books"]["id"]
    r = await client.patch(f"{BASE}/{phones}", json={"parent_id": None}, headers=admin["headers"])
    assert r.status_code == 200
    assert r.json()["parent_id"] is None  # explicit null: a root
    r = await client.patch(f"{BASE}/{phones}", json={"position": 0}, headers=admin["headers"])
    assert r.status_code == 200
    assert names(await public_tree(client)) == [("Mobile phones", ["Used"]), ("数码 Electronics", ["Computers"]),
                                                "Books"]


async def test_patch_cycle_is_409_and_changes_nothing(client: Any, admin: dict[str, Any],
                                                      tree: dict[str, Any]) -> None:
    before = await public_tree(client, admin["headers"])
    for node, parent in (("electronics", "used"), ("electronics", "phones"), ("phones", "phones")):
        r = await client.patch(f"{BASE}/{tree[node]['id']}", json={"parent_id": tree[parent]["id"]},
                               headers=admin["headers"])
        assert r.status_code == 409
        assert "under itself" in r.json()["detail"]
    # a combined patch is all-or-nothing: the valid move to the top level is rolled back with the refused
    # rename (a root named "Books" exists)
    r = await client.patch(f"{BASE}/{tree['phones']['id']}", json={"parent_id": None, "name": "books"},
                           headers=admin["headers"])
    assert r.status_code == 409
    assert await public_tree(client, admin["headers"]) == before


async def test_patch_errors(client: Any, admin: dict[str, Any], tree: dict[str, Any]) -> None:
    phones = tree["phones"]["id"]
    r = await client.patch(f"{BASE}/{phones}", json={"name": "COMPUTERS"}, headers=admin["headers"])
    assert r.status_code == 409
    r = await client.patch(f"{BASE}/{phones}", json={"name": "y" * 61}, headers=admin["headers"])
    assert r.status_code == 400
    r = await client.patch(f"{BASE}/{phones}", json={"parent_id": 999_999}, headers=admin["headers"])
    assert r.status_code == 400
    r = await client.patch(f"{BASE}/{phones}", json={"position": -1}, headers=admin["headers"])
    assert r.status_code == 400
    r = await client.patch(f"{BASE}/999999", json={"name": "Ghost"}, headers=admin["headers"])
    assert r.status_code == 404
    r = await client.patch(f"{BASE}/{phones}", json={"name": "Hack"})
    assert r.status_code == 401
    user = await api_user(client)
    r = await client.patch(f"{BASE}/{phones}", json={"name": "Hack"}, headers=user["headers"])
    assert r.status_code == 403
    tree_now = await public_tree(client)
    assert tree_now[0]["children"][0]["name"] == "Phones"


# --- POST /admin/categories/{id}/merge ---------------------------------------------------------------------------


async def test_merge_returns_target_and_moves_children(client: Any, admin: dict[str, Any],
                                                       tree: dict[str, Any]) -> None:
    r = await client.post(f"{BASE}/{tree['phones']['id']}/merge", json={"into_id": tree["books"]["id"]},
                          headers=admin["headers"])
    assert r.status_code == 200
    assert r.json() == tree["books"]
    assert names(await public_tree(client)) == [("数码 Electronics", ["Computers"]), ("Books", ["Used"])]


async def test_merge_errors(client: Any, admin: dict[str, Any], tree: dict[str, Any]) -> None:
    before = await public_tree(client, admin["headers"])
    url = f"{BASE}/{tree['electronics']['id']}/merge"
    for into in ("electronics", "used"):
        r = await client.post(url, json={"into_id": tree[into]["id"]}, headers=admin["headers"])
        assert r.status_code == 409
    r = await client.post(url, json={"into_id": 999_999}, headers=admin["headers"])
    assert r.status_code == 404
    r = await client.post(f"{BASE}/999999/merge", json={"into_id": tree["books"]["id"]}, headers=admin["headers"])
    assert r.status_code == 404
    r = await client.post(url, json={}, headers=admin["headers"])
    assert r.status_code == 400
    r = await client.post(url, json={"into_id": tree["books"]["id"]})
    assert r.status_code == 401
    user = await api_user(client)
    r = await client.post(url, json={"into_id": tree["books"]["id"]}, headers=user["headers"])
    assert r.status_code == 403
    assert await public_tree(client, admin["headers"]) == before


# --- DELETE /admin/categories/{id} -------------------------------------------------------------------------------


async def test_delete(client: Any, admin: dict[str, Any], tree: dict[str, Any]) -> None:
    before = await public_tree(client, admin["headers"])
    r = await client.delete(f"{BASE}/{tree['phones']['id']}", headers=admin["headers"])
    assert r.status_code == 409
    assert "sub-categories" in r.json()["detail"]
    r = await client.delete(f"{BASE}/{tree['used']['id']}")
    assert r.status_code == 401
    user = await api_user(client)
    r = await client.delete(f"{BASE}/{tree['used']['id']}", headers=user["headers"])
    assert r.status_code == 403
    assert await public_tree(client, admin["headers"]) == before
    r = await client.delete(f"{BASE}/{tree['used']['id']}", headers=admin["headers"])
    assert r.status_code == 204
    assert r.content == b""
    r = await client.delete(f"{BASE}/{tree['used']['id']}", headers=admin["headers"])
    assert r.status_code == 404
    assert names(await public_tree(client)) == [("数码 Electronics", ["Phones", "Computers"]), "Books"]


async def test_openapi_describes_the_category_endpoints(client: Any) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    assert "get" in paths["/api/v1/categories"]
    assert "post" in paths["/api/v1/admin/categories"]
    assert {"patch", "delete"} <= set(paths["/api/v1/admin/categories/{category_id}"])
    assert "post" in paths["/api/v1/admin/categories/{category_id}/merge"]
