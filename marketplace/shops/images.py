"""Shop logo and banner uploads: checked, re-encoded and saved under ``media_dir/shops/``.

A small helper of our own so that shops do not depend on the catalog's storage port while both are being
written; files are served from ``/media/<key>`` (the catalog's media route). The checks follow DESIGN.md §9:
only JPEG/PNG/WebP recognised by content (never by the file name or the client's content type), a byte limit,
a pixel limit checked from the header before decoding (decompression bombs), ``verify()`` then a fresh open to
decode, and a re-encode that drops EXIF and every other metadata block.
"""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from marketplace.shops.exceptions import ImageTooLarge, InvalidImage

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
    """The image re-encoded without metadata, or ``InvalidImage`` (400) / ``ImageTooLarge`` (413)."""
    if len(raw) > max_bytes:
        raise ImageTooLarge(f"The image is larger than {max_bytes // (1024 * 1024)} MB.")
    if not raw:
        raise InvalidImage("The file is empty.")
    try:
        with warnings.catch_warnings():
            # Pillow warns (and under pytest's "error" filter raises) on huge images; our own limit is below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw), formats=list(FORMATS)) as probe:
                fmt = probe.format or ""
                width, height = probe.size
                if width * height > max_pixels:
                    raise ImageTooLarge(f"The image has more than {max_pixels:,} pixels.")
                probe.verify()
            with Image.open(io.BytesIO(raw), formats=list(FORMATS)) as decoded:
                decoded.load()
                img = _normalised(decoded)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidImage() from exc
    if fmt not in FORMATS:
        raise InvalidImage()
    img.thumbnail((max_side, max_side))
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
