"""Membership (docs/rules.md §13–§14): levels J1–J5 by effective spend, the points ledger with its lots, and the
checkout arithmetic (points redeemed, shipping and free shipping by level) that the buy paths call."""
