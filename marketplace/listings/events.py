"""Events of the listings domain (marketplace/events.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ListingPublished:
    listing_id: int
    seller_id: int
    category_id: int
    mode: str


@dataclass(frozen=True, slots=True)
class QuestionAsked:
    question_id: int
    listing_id: int
    seller_id: int
    asker_id: int


@dataclass(frozen=True, slots=True)
class QuestionAnswered:
    question_id: int
    listing_id: int
    seller_id: int
    asker_id: int
