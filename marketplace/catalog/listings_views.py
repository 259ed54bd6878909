"""HTML pages of listings: sell, listing page, category, search, my listings; and /media for photos."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import File

from marketplace.web.deps import DB, AppSettings, AuthUser, MaybeUser  # noqa: F401

# Photo files are named by a random token and never change, so browsers and CDNs may keep them for a year.
MEDIA_CACHE_CONTROL = "public, max-age=31536000, immutable"


@get("/media/{path:path}", include_in_schema=False, sync_to_thread=False)
def media(path: FromPath[str], settings: AppSettings) -> File:
    """Files of settings.media_dir (LocalStorage). Anything resolving outside the folder is 404."""
    root = Path(settings.media_dir).resolve()
    target = (root / path.lstrip("/")).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        raise NotFoundException("Not found.")
    return File(path=target, content_disposition_type="inline", headers={"Cache-Control": MEDIA_CACHE_CONTROL})


ROUTES: list[Any] = [media]
