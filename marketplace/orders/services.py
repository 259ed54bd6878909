"""Order use cases. :func:`open_order` is how fixed-price purchases and auction wins create an order."""

from __future__ import annotations

from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.catalog.models import Listing
from marketplace.orders.models import Order, OrderEvent
from marketplace.wallet import ledger


async def open_order(
    session: AsyncSession,
    *,
    listing: Listing,
    buyer_id: int,
    quantity: int,
    unit_price: int,
    pay_from: Literal["available", "held"] = "available",
    held_amount: int | None = None,
) -> Order:
    """Create a ``paid`` order and move ``quantity × unit_price`` coins from the buyer into its escrow.

    ``pay_from="available"``: a fixed-price purchase or Buy Now (raises InsufficientCoins → 402, nothing kept
    because the caller's transaction rolls back). ``pay_from="held"``: an auction win; ``held_amount`` is the
    winner's whole hold (their maximum) and ``held_amount - total`` goes back to available in the same
    transaction. The caller holds the listing row lock and has already decided the sale is valid.
    """
    total = quantity * unit_price
    order = Order(
        listing_id=listing.id, buyer_id=buyer_id, seller_id=listing.seller_id, quantity=quantity,
        unit_price=unit_price, total=total, fee=0, status="paid",
    )
    session.add(order)
    await session.flush()
    session.add(OrderEvent(order_id=order.id, actor_id=buyer_id, from_status=None, to_status="paid",
                           note="paid into escrow"))
    if pay_from == "available":
        legs = [ledger.Leg(ledger.available(buyer_id), -total), ledger.Leg(ledger.escrow(order.id), total)]
        kind = "purchase"
    else:
        hold = total if held_amount is None else held_amount
        legs = [ledger.Leg(ledger.held(buyer_id), -hold), ledger.Leg(ledger.escrow(order.id), total)]
        if hold > total:
            legs.append(ledger.Leg(ledger.available(buyer_id), hold - total))
        kind = "auction_settlement"
    if total > 0:
        await ledger.post(session, kind=kind, legs=[leg for leg in legs if leg.amount], ref_type="order",
                          ref_id=order.id)
    return order
