"""Pure listing rules: what a valid new listing is, what publishing it costs, what a purchase may take.

No I/O here (docs/architecture.md): the service loads the rows, these functions decide. Every refusal raises
:class:`~marketplace.errors.InvalidInput` (400) or :class:`~marketplace.errors.Conflict` (409) with a reason a
person can read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from marketplace import paging
from marketplace.errors import Conflict, InvalidInput, PermissionDenied
from marketplace.i18n import N_

MODES = ("fixed", "auction")
STATUSES = ("active", "sold", "unsold", "ended", "removed")
SORTS = ("ending_soon", "newest", "price_asc", "price_desc")

# The one listing status state machine: which status may follow which. Only the listings service, the auctions
# close/Buy Now and admin moderation change a status, each through :func:`next_status`.
TRANSITIONS: dict[str, frozenset[str]] = {
    "active": frozenset({"sold", "unsold", "ended", "removed"}),
    "sold": frozenset({"active", "removed"}),  # a cancelled order puts a sold-out fixed-price listing back
    "unsold": frozenset({"removed"}),
    "ended": frozenset({"removed"}),
    "removed": frozenset(),
}


class IllegalTransition(Conflict):
    pass


def next_status(current: str, new: str) -> str:
    """``new`` when a listing in ``current`` may move to it, else :class:`IllegalTransition` (409)."""
    if new not in TRANSITIONS.get(current, frozenset()):
        raise IllegalTransition("A listing cannot go from %(current)s to %(new)s.", current=current, new=new)
    return new
def public(*, status: str, category_hidden: bool, shop_suspended: bool) -> bool:
    """The one visibility rule (docs/rules.md §6 decision 10, §10 decision 7, §18): a listing that was removed,
    lies in a hidden category (itself or an ancestor) or belongs to a suspended shop is not public."""
    return status != "removed" and not category_hidden and not shop_suspended


def visible_to(*, is_public: bool, seller_id: int, viewer_id: int | None, is_admin: bool) -> bool:
    """Who may read a listing: everyone when it is public, else only its seller and admins (404 for the rest).
    Trading (bids, purchases, Buy Now) needs a public listing, whoever asks."""
    return is_public or is_admin or (viewer_id is not None and viewer_id == seller_id)


TITLE_MAX = 120
DESCRIPTION_MAX = 10_000
QUANTITY_MAX = 10_000
# A generous ceiling: 2^31 keeps every coin column (INTEGER on SQLite, BIGINT on PostgreSQL) far from overflow
# even when multiplied by a quantity.
PRICE_MAX = 100_000_000


@dataclass(frozen=True, slots=True)
class NewListing:
    """A validated listing draft, ready to be written."""

    title: str
    description: str
    category_id: int
    mode: str
    featured: bool
    # fixed
    price: int | None = None
    quantity: int = 1
    # auction
    start_price: int | None = None
    reserve_price: int | None = None
    buy_now_price: int | None = None
    duration_seconds: int | None = None
    auto_extend: bool = True

    @property
    def sort_price(self) -> int:
        """``current_price`` at publish time: the one column both modes sort by."""
        value = self.price if self.mode == "fixed" else self.start_price
        return value or 0

    def ends_at(self, now: datetime) -> datetime | None:
        if self.mode != "auction" or self.duration_seconds is None:
            return None
        return now + timedelta(seconds=self.duration_seconds)


@dataclass(frozen=True, slots=True)
class FeeQuote:
    """What publishing costs: ``insertion`` is 0 inside a shop's free quota; ``featured`` is always charged."""

    insertion: int
    featured: int
    free_listing: bool

    @property
    def total(self) -> int:
        return self.insertion + self.featured


def _int(name: str, value: object, *, minimum: int, maximum: int = PRICE_MAX) -> int:
    # bool is an int subclass: `"price": true` must not list an item for 1 coin.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("%(name)s must be a whole number.", name=name)
    if value < minimum or value > maximum:
        raise InvalidInput("%(name)s must be between %(minimum)s and %(maximum)s.",
                           name=name, minimum=minimum, maximum=maximum)
    return value


def validate_new_listing(
    *,
    title: object,
    description: object,
    category_id: object,
    mode: object,
    featured: object = False,
    price: object = None,
    quantity: object = None,
    start_price: object = None,
    reserve_price: object = None,
    buy_now_price: object = None,
    duration_seconds: object = None,
    auto_extend: object = None,
    min_auction_seconds: int,
    max_auction_seconds: int,
) -> NewListing:
    """Check a draft against docs/rules.md §3–§4 and the decisions in docs/decisions-listings.md.

    Fields of the other mode are ignored rather than refused, so one form can post both modes.
    """
    if mode not in MODES:
        raise InvalidInput("mode must be 'fixed' or 'auction'.")
    clean_title = " ".join(str(title or "").split())
    if not clean_title:
        raise InvalidInput("A title is required.")
    if len(clean_title) > TITLE_MAX:
        raise InvalidInput("The title is limited to %(title_max)s characters.", title_max=TITLE_MAX)
    clean_description = str(description or "").replace("\r\n", "\n").strip()
    if len(clean_description) > DESCRIPTION_MAX:
        raise InvalidInput("The description is limited to %(description_max)s characters.",
                           description_max=DESCRIPTION_MAX)
    cat = _int("category_id", category_id, minimum=1, maximum=2**62)
    if not isinstance(featured, bool):
        raise InvalidInput("featured must be true or false.")

    if mode == "fixed":
        if price is None:
            raise InvalidInput("A fixed-price listing needs a price.")
        return NewListing(
            title=clean_title, description=clean_description, category_id=cat, mode="fixed", featured=featured,
            price=_int("price", price, minimum=1),
            quantity=_int("quantity", 1 if quantity is None else quantity, minimum=1, maximum=QUANTITY_MAX),
        )

    if start_price is None:
        raise InvalidInput("An auction needs a start price.")
    start = _int("start_price", start_price, minimum=1)
    reserve = None if reserve_price is None else _int("reserve_price", reserve_price, minimum=1)
    buy_now = None if buy_now_price is None else _int("buy_now_price", buy_now_price, minimum=1)
    if reserve is not None and reserve < start:
        raise InvalidInput("The reserve price must be at least the start price.")
    if buy_now is not None and buy_now <= start:
        raise InvalidInput("The Buy Now price must be above the start price.")
    if buy_now is not None and reserve is not None and buy_now < reserve:
        raise InvalidInput("The Buy Now price must be at least the reserve price.")
    if duration_seconds is None:
        raise InvalidInput("An auction needs duration_seconds.")
    duration = _int("duration_seconds", duration_seconds, minimum=min_auction_seconds, maximum=max_auction_seconds)
    if auto_extend is not None and not isinstance(auto_extend, bool):
        raise InvalidInput("Automatic extension must be on or off.")
    return NewListing(
        title=clean_title, description=clean_description, category_id=cat, mode="auction", featured=featured,
        start_price=start, reserve_price=reserve, buy_now_price=buy_now, duration_seconds=duration,
        auto_extend=True if auto_extend is None else auto_extend, quantity=1,
    )


def listing_fee(
    mode: str, *, featured: bool, free: bool, insertion_fixed: int, insertion_auction: int, featured_fee: int
) -> FeeQuote:
    """docs/rules.md §5: the insertion fee by mode (none inside a shop's free quota) plus the featured upgrade."""
    insertion = 0 if free else (insertion_fixed if mode == "fixed" else insertion_auction)
    return FeeQuote(insertion=insertion, featured=featured_fee if featured else 0, free_listing=free)


def check_purchase(*, mode: str, status: str, seller_id: int, buyer_id: int, quantity: object,
                   quantity_available: int) -> int:
    """docs/rules.md §4: a fixed-price purchase of ``quantity`` units. Returns the quantity; raises otherwise.

    The buyer-is-seller check comes first so a seller never learns "sold out" instead of "your own item".
    """
    q = _int("quantity", quantity, minimum=1, maximum=QUANTITY_MAX)
    if buyer_id == seller_id:
        raise PermissionDenied("You cannot buy your own item.")
    if mode != "fixed":
        raise Conflict("This is an auction.")
    if status == "sold" or (status == "active" and quantity_available == 0):
        raise Conflict("Sold out.")
    if status != "active":
        raise Conflict("This listing is not active.")
    if q > quantity_available:
        raise Conflict("Only %(quantity_available)s left.", quantity_available=quantity_available)
    return q


def check_end_early(*, status: str, seller_id: int, user_id: int, bid_count: int, sold_units: int) -> None:
    """A seller may end their own active listing while it has no bids and no sales (docs/api.md DELETE)."""
    if user_id != seller_id:
        raise PermissionDenied("Only the seller may end this listing.")
    if status != "active":
        raise Conflict("This listing is not active.")
    if bid_count > 0:
        raise Conflict("This listing has bids and cannot be ended.")
    if sold_units > 0:
        raise Conflict("This listing has sales and cannot be ended.")


def parse_sort(value: str | None) -> str:
    if value is None or value == "":
        return "newest"
    if value not in SORTS:
        raise InvalidInput("sort must be one of %(choices)s.", choices=', '.join(SORTS))
    return value


def page_window(page: int, per_page: int) -> tuple[int, int]:
    """(offset, limit) for 1-based pages; per_page 1–100 (:func:`marketplace.paging.page_window`)."""
    return paging.page_window(page, per_page)


# --- auction prices as the listing object shows them (docs/rules.md §2, §3) ------------------------------------

# (lower bound of the current-price band, increment), highest band first.
INCREMENT_BANDS: tuple[tuple[int, int], ...] = (
    (50_000, 500),
    (10_000, 100),
    (5_000, 50),
    (1_000, 25),
    (500, 10),
    (100, 5),
    (0, 1),
)


def increment(price: int) -> int:
    """The bid increment at ``price`` (docs/rules.md §2)."""
    for floor, step in INCREMENT_BANDS:
        if price >= floor:
            return step
    return 1


def min_next_bid(start_price: int, current_price: int, bid_count: int) -> int:
    """``start_price`` with no bids, otherwise ``price + increment(price)``."""
    if bid_count == 0:
        return start_price
    return current_price + increment(current_price)


def reserve_met(reserve_price: int | None, leader_max: int | None) -> bool | None:
    """Public reserve state: None without a reserve; otherwise whether the leader's maximum reaches it."""
    if reserve_price is None:
        return None
    return leader_max is not None and leader_max >= reserve_price


# --- condition, location and editing (docs/rules.md §19.7) -----------------------------------------------------

CONDITIONS = ("new", "like_new", "used", "for_parts")
CONDITION_LABELS = {"new": N_("New"), "like_new": N_("Like new"), "used": N_("Used"), "for_parts": N_("For parts")}
LOCATION_MAX = 60


def check_condition(value: object) -> str | None:
    """None (not said) or one of :data:`CONDITIONS`; anything else is 400."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value not in CONDITIONS:
        raise InvalidInput("condition must be one of new, like_new, used, for_parts.")
    return value


def check_location(value: object) -> str | None:
    """Free text such as "上海 浦东": spaces collapsed, at most :data:`LOCATION_MAX` characters; empty → None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput("location must be text.")
    clean = " ".join(value.split())
    if len(clean) > LOCATION_MAX:
        raise InvalidInput("location is limited to %(location_max)s characters.", location_max=LOCATION_MAX)
    return clean or None


# Fields an edit may change at any time while the listing is active, and the price fields, which may change only
# while there are no bids and no sales (a bidder or buyer agreed to the old terms).
FREE_FIELDS = ("title", "description", "category_id", "condition", "location")
FIXED_PRICE_FIELDS = ("price", "plus_price", "member_day", "shipping_fee")
AUCTION_PRICE_FIELDS = ("start_price", "buy_now_price")
PRICE_FIELDS = FIXED_PRICE_FIELDS + AUCTION_PRICE_FIELDS
EDITABLE = FREE_FIELDS + PRICE_FIELDS
# How the edit history names a field (English ids, translated where shown).
FIELD_LABELS = {"title": N_("Title"), "description": N_("Description"), "category_id": N_("Category"),
                "condition": N_("Condition"), "location": N_("Location"), "price": N_("Price"),
                "plus_price": N_("PLUS price"), "member_day": N_("Member day"), "shipping_fee": N_("Shipping fee"),
                "start_price": N_("Starting price"), "buy_now_price": N_("Buy now price"), "photos": N_("Photos")}


@dataclass(frozen=True, slots=True)
class EditState:
    """What the edit rules need of the listing as it is now."""

    seller_id: int
    mode: str
    status: str
    bid_count: int
    sold_units: int
    values: dict[str, object]  # the current value of every field of EDITABLE (the other mode's: None)
    reserve_price: int | None = None


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    old: object
    new: object


def plan_edit(state: EditState, user_id: int, patch: dict[str, object]) -> list[Change]:
    """The changes an edit makes, in :data:`EDITABLE` order, or a refusal (docs/rules.md §19.7):

    - 403 unless ``user_id`` is the seller; 409 unless the listing is active;
    - 400 for an unknown field, a field of the other mode or a bad value (the same checks as publishing);
    - 409 when a price field would change while the listing has bids or sales.

    A field sent with its current value is not a change; an empty list means nothing changes.
    """
    if user_id != state.seller_id:
        raise PermissionDenied("Only the seller may edit this listing.")
    if state.status != "active":
        raise Conflict("Only an active listing can be edited.")
    unknown = sorted(set(patch) - set(EDITABLE))
    if unknown:
        raise InvalidInput("These fields cannot be edited: %(choices)s.", choices=', '.join(unknown))
    other = AUCTION_PRICE_FIELDS if state.mode == "fixed" else FIXED_PRICE_FIELDS
    wrong = [f for f in other if f in patch]
    if wrong:
        kind = "auctions" if state.mode == "fixed" else "fixed-price listings"
        raise InvalidInput("%(choices)s apply only to %(kind)s.", choices=', '.join(wrong), kind=kind)

    new: dict[str, object] = {}
    if "title" in patch:
        title = " ".join(str(patch["title"] or "").split())
        if not title:
            raise InvalidInput("A title is required.")
        if len(title) > TITLE_MAX:
            raise InvalidInput("The title is limited to %(title_max)s characters.", title_max=TITLE_MAX)
        new["title"] = title
    if "description" in patch:
        if not isinstance(patch["description"], str):
            raise InvalidInput("description must be text.")
        description = patch["description"].replace("\r\n", "\n").strip()
        if len(description) > DESCRIPTION_MAX:
            raise InvalidInput("The description is limited to %(description_max)s characters.",
                               description_max=DESCRIPTION_MAX)
        new["description"] = description
    if "category_id" in patch:
        new["category_id"] = _int("category_id", patch["category_id"], minimum=1, maximum=2**62)
    if "condition" in patch:
        new["condition"] = check_condition(patch["condition"])
    if "location" in patch:
        new["location"] = check_location(patch["location"])
    if "price" in patch:
        new["price"] = _int("price", patch["price"], minimum=1)
    if "plus_price" in patch:
        value = patch["plus_price"]
        new["plus_price"] = None if value is None else _int("plus_price", value, minimum=1)
    if "member_day" in patch:
        if not isinstance(patch["member_day"], bool):
            raise InvalidInput("member_day must be true or false.")
        new["member_day"] = patch["member_day"]
    if "shipping_fee" in patch:
        value = patch["shipping_fee"]
        new["shipping_fee"] = 0 if value is None else _int("shipping_fee", value, minimum=0, maximum=100_000)
    if "start_price" in patch:
        new["start_price"] = _int("start_price", patch["start_price"], minimum=1)
    if "buy_now_price" in patch:
        value = patch["buy_now_price"]
        new["buy_now_price"] = None if value is None else _int("buy_now_price", value, minimum=1)

    changes = [Change(f, state.values.get(f), new[f]) for f in EDITABLE if f in new and new[f] != state.values.get(f)]
    if any(c.field in PRICE_FIELDS for c in changes) and (state.bid_count > 0 or state.sold_units > 0):
        raise Conflict("The price cannot change once the listing has bids or sales.")

    # the prices as they would be after the edit must still hang together (the same rules as publishing)
    after = {**state.values, **{c.field: c.new for c in changes}}
    if state.mode == "fixed":
        price, plus = after.get("price"), after.get("plus_price")
        if isinstance(price, int) and isinstance(plus, int) and plus >= price:
            raise InvalidInput("plus_price must be lower than the price.")
    else:
        start, buy_now, reserve = after.get("start_price"), after.get("buy_now_price"), state.reserve_price
        if isinstance(start, int) and reserve is not None and reserve < start:
            raise InvalidInput("start_price cannot be above the reserve_price.")
        if isinstance(buy_now, int) and isinstance(start, int) and buy_now <= start:
            raise InvalidInput("buy_now_price must be above the start_price.")
        if isinstance(buy_now, int) and reserve is not None and buy_now < reserve:
            raise InvalidInput("buy_now_price must be at least the reserve_price.")
    return changes
