"""Prepaid coin cards (购物卡, docs/rules.md §17): batches made by one admin and activated by another, card sales,
refunds, exchanges and voids, and redemption into the wallet through the platform ``card_float`` account."""
