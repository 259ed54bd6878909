"""Watchlist, notifications (in-app, live over ``/ws/me``, e-mail) and saved searches (docs/rules.md §12)."""
