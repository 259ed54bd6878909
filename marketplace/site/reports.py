"""Reports of listings and the moderation queue (docs/rules.md §18).

A signed-in user reports a listing once (reason + text). An admin resolves an open report: ``dismiss``, or
``remove`` — the listing goes through the admin removal (marketplace/admin/moderation.py: an auction's holds are
released, fees are kept) and every open report of that listing is closed with it. The note is the reason the
seller is shown (``GET /api/v1/my/removals``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from marketplace.accounts.models import User
from marketplace.admin.moderation import ListingModeration
from marketplace.db import iso, utcnow
from marketplace.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from marketplace.jobs import Publisher
from marketplace.listings.models import Listing
from marketplace.site import rules
from marketplace.site.models import Report

STATUSES = ("open", "dismissed", "removed")


def report_out(report: Report, reporter: str, listing_title: str | None = None,
               seller: str | None = None) -> dict[str, Any]:
    return {"id": report.id, "listing_id": report.listing_id, "reason": report.reason, "text": report.text,
            "reporter": reporter, "created_at": iso(report.created_at), "status": report.status,
            "note": report.note, "resolved_at": iso(report.resolved_at), "listing_title": listing_title,
            "seller": seller}


class ReportService:
    def __init__(self, session: AsyncSession, publisher: Publisher | None = None) -> None:
        self.session = session
        self.publisher = publisher

    async def report(self, listing_id: int, reporter_id: int, reason: Any, text: Any) -> Report:
        reason, text = rules.check_report(reason, text)
        listing = await self.session.get(Listing, listing_id)
        if listing is None or listing.status == "removed":
            raise NotFound("Listing not found.")
        if listing.seller_id == reporter_id:
            raise PermissionDenied("You cannot report your own listing.")
        existing = await self.session.scalar(select(Report.id).where(Report.listing_id == listing_id,
                                                                     Report.reporter_id == reporter_id))
        if existing is not None:
            raise Conflict("You have reported this listing already.")
        report = Report(listing_id=listing_id, reporter_id=reporter_id, reason=reason, text=text, status="open",
                        created_at=utcnow(), note="")
        try:
            async with self.session.begin_nested():
                self.session.add(report)
                await self.session.flush()
        except IntegrityError:  # the same user's second click raced the first
            raise Conflict("You have reported this listing already.") from None
        return report

    async def queue(self, status: str | None = "open", reason: str | None = None, page: int = 1,
                    per_page: int = 50) -> tuple[list[dict[str, Any]], int]:
        reporter, seller = aliased(User), aliased(User)
        stmt = (select(Report, reporter.username, Listing.title, seller.username)
                .join(reporter, reporter.id == Report.reporter_id)
                .join(Listing, Listing.id == Report.listing_id)
                .join(seller, seller.id == Listing.seller_id))
        if status:
            if status not in STATUSES:
                raise InvalidInput("status must be one of %(choices)s.", choices=', '.join(STATUSES))
            stmt = stmt.where(Report.status == status)
        if reason:
            if reason not in rules.REPORT_REASONS:
                raise InvalidInput("reason must be one of %(choices)s.", choices=', '.join(rules.REPORT_REASONS))
            stmt = stmt.where(Report.reason == reason)
        total = await self.session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = (await self.session.execute(stmt.order_by(Report.created_at, Report.id)
                                           .offset((max(page, 1) - 1) * per_page).limit(per_page))).all()
        return [report_out(r, who, title, by) for r, who, title, by in rows], int(total or 0)

    async def seller_history(self, seller_username: str) -> dict[str, int]:
        """What the queue page shows beside a report: the seller's listings, removals and reports against them."""
        seller_id = await self.session.scalar(select(User.id).where(User.username == seller_username))
        listings = await self.session.scalar(select(func.count()).select_from(Listing)
                                             .where(Listing.seller_id == seller_id))
        removed = await self.session.scalar(select(func.count()).select_from(Listing)
                                            .where(Listing.seller_id == seller_id, Listing.status == "removed"))
        reports = await self.session.scalar(select(func.count()).select_from(Report).join(
            Listing, Listing.id == Report.listing_id).where(Listing.seller_id == seller_id))
        return {"listings": int(listings or 0), "removed": int(removed or 0), "reports": int(reports or 0)}

    async def resolve(self, report_id: int, admin_id: int, action: Any, note: Any,
                      now: datetime | None = None) -> Report:
        if action not in rules.REPORT_ACTIONS:
            raise InvalidInput("action must be 'dismiss' or 'remove'.")
        if note is None:
            note = ""
        if not isinstance(note, str) or len(note) > 2000:
            raise InvalidInput("note must be at most 2000 characters.")
        now = now or utcnow()
        report = await self.session.scalar(select(Report).where(Report.id == report_id).with_for_update())
        if report is None:
            raise NotFound("Report not found.")
        if report.status != "open":
            raise Conflict("This report is already resolved (%(status)s).", status=report.status)
        if action == "dismiss":
            report.status = "dismissed"
        else:
            await ListingModeration(self.session, self.publisher).remove(report.listing_id, now)
            report.status = "removed"
            # every other open report of the listing is settled by the same removal
            await self.session.execute(update(Report).where(
                Report.listing_id == report.listing_id, Report.status == "open", Report.id != report.id)
                .values(status="removed", resolved_by=admin_id, resolved_at=now, note=note.strip()))
        report.resolved_by = admin_id
        report.resolved_at = now
        report.note = note.strip()
        await self.session.flush()
        return report

    async def removals(self, seller_id: int) -> list[dict[str, Any]]:
        """The seller's listings removed after a report, with the reason the admin gave."""
        rows = (await self.session.execute(
            select(Report.listing_id, Listing.title, Report.reason, Report.note, Report.resolved_at)
            .join(Listing, Listing.id == Report.listing_id)
            .where(Listing.seller_id == seller_id, Report.status == "removed", Report.resolved_by.is_not(None))
            .order_by(Report.resolved_at.desc()))).all()
        seen: set[int] = set()
        out = []
        for listing_id, title, reason, note, at in rows:
            if listing_id in seen:
                continue
            seen.add(listing_id)
            out.append({"listing_id": listing_id, "title": title, "reason": reason, "note": note,
                        "removed_at": iso(at)})
        return out


class SiteRemovalReasons:
    """The listings domain's :class:`~marketplace.listings.ports.RemovalReasons` port (/my/listings)."""

    async def for_seller(self, session: AsyncSession, seller_id: int) -> list[dict[str, Any]]:
        return await ReportService(session).removals(seller_id)
