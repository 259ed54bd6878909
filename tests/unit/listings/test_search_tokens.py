"""Search tokens (marketplace/listings/tokens.py): Chinese segmentation, traditional → simplified, stemming."""

from __future__ import annotations

import pytest

from marketplace.listings.tokens import (
    MAX_QUERY_TOKENS,
    category_paths,
    index_text,
    index_tokens,
    normalise,
    query_tokens,
)


def matches(q: str, title: str, description: str = "", categories: tuple[str, ...] = ()) -> bool:
    """What both backends do: every query token is one of the listing's tokens."""
    tokens = set(index_text(title, description, categories).split(" "))
    wanted = query_tokens(q)
    return bool(wanted) and all(t in tokens for t in wanted)


@pytest.mark.parametrize(("q", "title"), [
    ("青花花瓶", "清代青花花瓶一只"),
    ("游戏电脑", "高配游戏电脑主机"),
    ("徕卡相机", "徕卡相机M6胶片机"),
    ("茶壶", "宜兴紫砂茶壶 手工"),
    ("电脑主机", "游戏电脑 主机"),  # a compound query finds its parts written apart
    ("手机", "二手手机 九成新"),
    ("九成新", "二手手机 九成新"),
])
def test_chinese_queries_find_titles_written_without_spaces(q: str, title: str) -> None:
    assert matches(q, title)


@pytest.mark.parametrize(("q", "title"), [
    ("青花花瓶", "青花瓷 茶杯"),   # 青花 but no 花瓶
    ("游戏电脑", "游戏手柄"),
    ("茶壶", "紫砂茶杯"),
    ("camera 手机", "二手手机 九成新"),
])
def test_every_query_token_must_match(q: str, title: str) -> None:
    assert not matches(q, title)


def test_the_query_is_segmented_into_words() -> None:
    assert query_tokens("青花花瓶") == ["青花", "花瓶"]
    assert query_tokens("游戏电脑") == ["游戏", "电脑"]
    assert query_tokens("徕卡相机") == ["徕卡", "相机"]
    assert query_tokens("茶壶") == ["茶壶"]
    assert query_tokens("电脑主机") == ["电脑", "主机"]


def test_the_index_holds_words_and_their_dictionary_subwords() -> None:
    assert index_tokens("高配游戏电脑主机") == ["高配", "游戏", "电脑", "主机", "电脑主机"]
    assert index_tokens("清代青花花瓶一只") == ["清代", "青花", "花瓶", "一只"]


def test_traditional_and_simplified_are_the_same() -> None:
    assert normalise("遊戲電腦 茶壺 徠卡相機") == "游戏电脑 茶壶 徕卡相机"
    assert query_tokens("遊戲電腦") == query_tokens("游戏电脑")
    assert query_tokens("茶壺") == ["茶壶"]
    assert matches("茶壶", "宜興紫砂茶壺")     # traditional title, simplified query
    assert matches("紫砂茶壺", "紫砂茶壶 宜兴")  # simplified title, traditional query


def test_english_singular_and_plural_match_each_other() -> None:
    assert query_tokens("skillets") == query_tokens("skillet") == ["skillet"]
    assert matches("skillets", "Cast iron skillet 铸铁锅")
    assert matches("skillet", "Two cast iron skillets")
    assert matches("Headphones", "wireless headphone")
    assert not matches("skillets", "Skill set")


def test_case_width_and_punctuation_are_folded() -> None:
    assert query_tokens("ＩＰｈｏｎｅ　１３") == ["iphon", "13"]
    assert matches("iphone 13", "iPhone 13 128GB — battery 89%")
    assert query_tokens("50%") == ["50"]
    assert query_tokens("Leica, M6!") == ["leica", "m6"]


def test_category_names_are_part_of_the_index() -> None:
    assert matches("手机", "iPhone 13 128GB", "Unlocked", ("数码 Electronics", "手机 Phones", "二手手机 Used phones"))
    assert matches("phones", "iPhone 13 128GB", "", ("手机 Phones",))
    assert not matches("手机", "iPhone 13 128GB", "Unlocked", ("数码 Electronics",))


def test_query_edge_cases() -> None:
    assert query_tokens(None) == []
    assert query_tokens("   ") == []
    assert query_tokens("!!! ，。") == []
    assert query_tokens("Phone phone PHONES") == ["phone"]
    assert len(query_tokens(" ".join(f"w{i}" for i in range(40)))) == MAX_QUERY_TOKENS


def test_index_text_is_distinct_tokens_separated_by_single_spaces() -> None:
    text = index_text("Lamp lamp LAMPS", "台灯 台灯", ["家居 Home"])
    assert text == "lamp 台灯 家居 home"
    assert index_text("", "") == ""


def test_category_paths_walk_up_to_the_root() -> None:
    rows = [(1, None, "数码"), (2, 1, "手机"), (3, 2, "二手手机"), (4, None, "图书")]
    assert category_paths(rows) == {1: ["数码"], 2: ["数码", "手机"], 3: ["数码", "手机", "二手手机"], 4: ["图书"]}
