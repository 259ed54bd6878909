"""Shop logo and banner uploads: checked, re-encoded and saved under ``media_dir/shops/``.

The checks are the one image pipeline's (``marketplace/media/images.py``: formats by content, byte limit, pixel
limit from the header, decompression bombs refused); here only the shop's re-encode (its own format, no
metadata, a maximum side) and the key. Files are served from ``/media/<key>`` like listing photos.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from marketplace.media.images import open_upload

FORMATS = ("JPEG", "PNG", "WEBP")
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
# The largest side we keep: a logo is shown small, a banner across the page.
MAX_SIDE = {"logo": 512, "banner": 1920}


@dataclass(frozen=True, slots=True)
class CleanImage:
    data: bytes
    format: str
    width: int
    height: int

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]


def clean_image(raw: bytes, *, max_bytes: int, max_pixels: int, max_side: int) -> CleanImage:
    """The image re-encoded without metadata in its own format, or ``InvalidImage`` (400) / ``ImageTooLarge``
    (413). The checks are the one pipeline's (:func:`marketplace.media.images.open_upload`)."""
    # Decoded with the pipeline's memory budget, already at most max_side (issue 11 M4).
    decoded, fmt = open_upload(raw, max_bytes=max_bytes, max_pixels=max_pixels, max_side=max_side)
    img = _normalised(decoded)
    out = io.BytesIO()
    if fmt == "JPEG":
        img.convert("RGB").save(out, "JPEG", quality=88, optimize=True)
    elif fmt == "PNG":
        img.save(out, "PNG", optimize=True)
    else:
        img.save(out, "WEBP", quality=88)
    return CleanImage(out.getvalue(), fmt, img.width, img.height)


def _normalised(img: Image.Image) -> Image.Image:
    """A copy holding pixels only (no EXIF, ICC, text chunks), in a mode every target format can write."""
    mode = img.mode if img.mode in ("RGB", "RGBA", "L", "LA") else ("RGBA" if "A" in img.getbands() else "RGB")
    pixels = img.convert(mode)
    clean = Image.new(mode, pixels.size)
    clean.paste(pixels)
    return clean


def save_shop_image(media_dir: Path, shop_id: int, kind: str, image: CleanImage) -> str:
    """Write the file and return its storage key (``shops/<id>/<kind>-<random>.<ext>``). A new random name per
    upload means caches never serve an old logo, and no user input reaches the path."""
    key = f"shops/{shop_id}/{kind}-{secrets.token_hex(8)}.{image.extension}"
    path = media_dir / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(image.data)
    return key
