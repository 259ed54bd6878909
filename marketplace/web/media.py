"""Serving uploaded files from ``settings.media_dir`` safely (issue 11 L1, L4).

Only image files we could have written are served, each with its real image type (never
``application/octet-stream``) and ``nosniff`` (set site-wide by web/security.py); a path with a NUL byte or any
other character the filesystem refuses, or one resolving outside the folder, is a plain 404 — not a 500.
"""

from __future__ import annotations

from pathlib import Path

from litestar.exceptions import NotFoundException
from litestar.response import File

IMAGE_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".gif": "image/gif",
}


def media_file(root: Path, path: str, *, cache_control: str) -> File:
    if "\x00" in path or "\\" in path:
        raise NotFoundException("Not found.")
    media_type = IMAGE_TYPES.get(Path(path).suffix.lower())
    if media_type is None:
        raise NotFoundException("Not found.")
    try:
        base = root.resolve()
        target = (base / path.lstrip("/")).resolve()
        if not target.is_relative_to(base) or not target.is_file():
            raise NotFoundException("Not found.")
    except (OSError, ValueError):  # names too long, invalid characters: nothing we stored
        raise NotFoundException("Not found.") from None
    return File(path=target, media_type=media_type, content_disposition_type="inline",
                headers={"Cache-Control": cache_control})
