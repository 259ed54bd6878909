"""Pure rules of notifications, the watchlist and saved searches (docs/rules.md §12). No I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from marketplace.i18n import N_, Text, translate

MAX_WATCHED = 500
MAX_SAVED_SEARCHES = 50
SAVED_SEARCH_EVERY = timedelta(hours=1)

# Every kind of docs/rules.md §12, in the order the settings page lists them.
KINDS: tuple[str, ...] = (
    "outbid", "won", "lost", "sold", "unsold", "ending_soon",
    "order_shipped", "order_completed", "order_cancelled", "dispute_opened", "dispute_resolved",
    "feedback_received", "topup_paid", "shop_renewed", "shop_renewal_failed", "shop_suspended", "saved_search",
    # membership (§13–§15): defined here so its events can notify once it lands
    "points_unfrozen", "coupon_issued", "level_changed",
    # trading (§19)
    "second_chance_offer", "question_asked", "question_answered", "order_message",
)
KIND_LABELS: dict[str, str] = {
    "outbid": N_("Outbid"), "won": N_("Auction won"), "lost": N_("Auction lost"),
    "sold": N_("Item sold"), "unsold": N_("Auction unsold"), "ending_soon": N_("Ending soon"),
    "order_shipped": N_("Order shipped"), "order_completed": N_("Order completed"),
    "order_cancelled": N_("Order cancelled"), "dispute_opened": N_("Dispute opened"),
    "dispute_resolved": N_("Dispute resolved"), "feedback_received": N_("Feedback received"),
    "topup_paid": N_("Top-up credited"), "shop_renewed": N_("Shop renewed"),
    "shop_renewal_failed": N_("Shop renewal failed"), "shop_suspended": N_("Shop suspended"),
    "saved_search": N_("Saved search matches"), "points_unfrozen": N_("Points unfrozen"),
    "coupon_issued": N_("Coupon issued"), "level_changed": N_("Level changed"),
    "second_chance_offer": N_("Second-chance offer"),
    "question_asked": N_("Question on your listing"), "question_answered": N_("Your question answered"),
    "order_message": N_("Order message"),
}


class _Refusal(ValueError):
    """A refusal with an English message id and named values (raised again as a domain error with both)."""

    def __init__(self, msgid: str, **values: Any) -> None:
        self.msgid, self.values = msgid, values
        super().__init__(msgid % values if values else msgid)


class SettingsError(_Refusal):
    """An e-mail settings document that names an unknown kind or a value that is not a boolean."""


def parse_email_settings(document: Any) -> dict[str, bool]:
    """``{"email": {kind: bool}}`` → ``{kind: bool}``; raises :class:`SettingsError` (→ 400) on anything else."""
    if not isinstance(document, Mapping) or not isinstance(document.get("email"), Mapping):
        raise SettingsError('Send {"email": {kind: true|false}}.')
    result: dict[str, bool] = {}
    for kind, value in document["email"].items():
        if kind not in KINDS:
            raise SettingsError("Unknown notification kind: %(kind)s.", kind=repr(kind))
        if not isinstance(value, bool):
            raise SettingsError("email.%(kind)s must be true or false.", kind=kind)
        result[kind] = value
    return result


def email_settings(overrides: Mapping[str, bool]) -> dict[str, bool]:
    """Every kind with its e-mail choice; a kind the user never touched is on."""
    return {kind: overrides.get(kind, True) for kind in KINDS}


def other_parties(buyer_id: int, seller_id: int, actor_id: int | None) -> list[int]:
    """"The other side of the order": whoever of buyer and seller did not make the transition (both when the
    system or an admin did)."""
    return [uid for uid in (buyer_id, seller_id) if uid != actor_id]


@dataclass(frozen=True, slots=True)
class Recipient:
    user_id: int
    kind: str


def close_recipients(seller_id: int, winner_id: int | None, bidder_ids: Iterable[int], status: str
                     ) -> list[Recipient]:
    """Who hears about an auction close: the winner ``won`` and every other bidder ``lost`` (on unsold every
    bidder ``lost``), the seller ``sold`` / ``unsold``."""
    out = [Recipient(seller_id, "sold" if status == "sold" else "unsold")]
    for uid in sorted(set(bidder_ids)):
        if uid == seller_id:
            continue
        out.append(Recipient(uid, "won" if status == "sold" and uid == winner_id else "lost"))
    return out


def ending_soon_due(ends_at: datetime, now: datetime, lead: timedelta) -> bool:
    """An active auction is "ending soon" from ``ends_at - lead`` until it ends."""
    return ends_at - lead <= now < ends_at


def saved_search_may_notify(last_notified_at: datetime | None, now: datetime,
                            every: timedelta = SAVED_SEARCH_EVERY) -> bool:
    """At most one ``saved_search`` notification per saved search per hour."""
    return last_notified_at is None or now - last_notified_at >= every


@dataclass(frozen=True, slots=True)
class SearchQuery:
    q: str = ""
    category_id: int | None = None
    mode: str | None = None
    max_price: int | None = None


class SearchError(_Refusal):
    pass


def _int_or_none(value: Any, name: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise SearchError("%(name)s must be an integer.", name=name)
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise SearchError("%(name)s must be an integer.", name=name) from exc
    if isinstance(value, float) and value != number:
        raise SearchError("%(name)s must be an integer.", name=name)
    if number < 0 or number > 2**62:
        raise SearchError("%(name)s is out of range.", name=name)
    return number


def parse_search(data: Mapping[str, Any]) -> SearchQuery:
    """A saved search from ``{q, category_id, mode, max_price}`` (any of them; all empty is "everything new")."""
    q = data.get("q")
    if q is not None and not isinstance(q, str):
        raise SearchError("q must be text.")
    q = (q or "").strip()
    if len(q) > 200:
        raise SearchError("q is at most 200 characters.")
    mode = data.get("mode") or None
    if mode is not None and mode not in ("fixed", "auction"):
        raise SearchError("mode must be 'fixed' or 'auction'.")
    return SearchQuery(q=q, category_id=_int_or_none(data.get("category_id"), "category_id"), mode=mode,
                       max_price=_int_or_none(data.get("max_price"), "max_price"))


def search_url(query: SearchQuery) -> str:
    params = {k: v for k, v in (("q", query.q), ("category_id", query.category_id), ("mode", query.mode),
                                ("max_price", query.max_price)) if v not in (None, "")}
    return "/search?" + urlencode(params) if params else "/search"


def describe_search(query: SearchQuery) -> Text:
    """``“film camera”, fixed price, ≤ 300 coins`` as a message (each part a message id of its own)."""
    text = Text(N_("“%(q)s”"), {"q": query.q}) if query.q else Text(N_("all items"), {})
    if query.mode:
        mode = N_("%(search)s, auctions") if query.mode == "auction" else N_("%(search)s, fixed price")
        text = Text(mode, {"search": text})
    if query.max_price is not None:
        text = Text(N_("%(search)s, ≤ %(price)s coins"), {"search": text, "price": query.max_price})
    return text


def saved_search_title(query: SearchQuery, count: int) -> Text:
    msgid = N_("1 new listing for your search %(search)s") if count == 1 else \
        N_("%(count)s new listings for your search %(search)s")
    return Text(msgid, {"count": count, "search": describe_search(query)})


# --- translated notification texts (docs/architecture.md "Languages") ----------------------------------------------


def message_spec(message: str) -> dict[str, Any] | None:
    """What a notification stores of an :class:`i18n.Text` to translate it later (a value may be a message
    itself); None for a plain string, which is shown as it is."""
    if not isinstance(message, Text):
        return None
    return {"msgid": message.msgid,
            "values": {k: message_spec(v) if isinstance(v, Text) else v for k, v in message.values.items()}}


def render_spec(spec: Mapping[str, Any]) -> str:
    """A stored message in the current locale (each value that is a message translated first)."""
    values = {k: render_spec(v) if isinstance(v, Mapping) else v for k, v in dict(spec["values"]).items()}
    return translate(Text(str(spec["msgid"]), values))


def shown(params: Mapping[str, Any] | None, field: str, english: str) -> str:
    """A notification's ``title``/``body`` in the current locale; the stored English text without a message id
    (older rows) or when the stored message cannot be formatted."""
    spec = (params or {}).get(field)
    if not isinstance(spec, Mapping):
        return english
    try:
        return render_spec(spec)
    except (KeyError, TypeError, ValueError):
        return english
