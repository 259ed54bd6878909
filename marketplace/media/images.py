"""The one image pipeline (listing photos, shop logos and banners): check an upload with Pillow, normalise it,
and keep it behind a storage port.

Uploads are hostile input (docs/architecture.md): we open only JPEG/PNG/WebP judged by content (never by file name),
refuse images whose declared size exceeds the pixel limit *before* decoding (a 100-byte PNG can declare
100000×100000 pixels), ``verify()`` the file, then re-open and decode it, and re-encode it — which drops EXIF
(GPS positions in phone photos) and any trailing payload. What we store is always our own JPEG.
"""

from __future__ import annotations

import asyncio
import functools
import io
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from PIL import Image, ImageOps, UnidentifiedImageError

from marketplace.errors import DomainError, InvalidInput

ALLOWED_FORMATS = ["JPEG", "PNG", "WEBP"]
FULL_MAX_SIDE = 1600
THUMB_MAX_SIDE = 400
JPEG_QUALITY = 85
T = TypeVar("T")


class ImageTooLarge(DomainError):
    status_code = 413
    default_detail = "The image file is too large."


class NotAnImage(InvalidInput):
    default_detail = "That file is not a JPEG, PNG or WebP image."


@dataclass(frozen=True, slots=True)
class ProcessedImage:
    full: bytes
    thumb: bytes
    width: int
    height: int
    content_type: str = "image/jpeg"
    extension: str = "jpg"


def _to_rgb(img: Image.Image) -> Image.Image:
    """JPEG has no alpha: flatten transparent images onto white instead of black."""
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")


def _encode(img: Image.Image) -> bytes:
    out = io.BytesIO()
    # No exif=/icc_profile= arguments: the re-encoded file carries pixels only.
    img.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()


# The decode-and-resize path's own pixel cap (issue 11 M4). The header check above admits up to
# ``settings.max_image_pixels`` (40 MP); a JPEG that large is decoded at 1/2–1/8 scale (``draft``: DCT scaling,
# never the full bitmap), but PNG and WebP have no such shortcut — every pixel is decoded. Those are decoded only up
# to 24 MP (6000×4000, 96 MB as RGBA), so one decode's memory is bounded whatever the file declares.
DECODE_MAX_PIXELS = 24_000_000
_FLAT_MODES = ("RGB", "RGBA", "L", "LA")

# One decode at a time per process (issue 11 M4): the pipeline runs in this single worker thread, so three large
# uploads arriving together queue instead of tripling the peak, and they never take the default thread pool's
# workers that password hashing and file I/O need.
_DECODER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="image-decode")


async def in_decoder(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run a blocking image function (:func:`process_image`, ``shops.images.clean_image``) in the one decoder."""
    return await asyncio.get_running_loop().run_in_executor(_DECODER, functools.partial(fn, *args, **kwargs))


def open_upload(data: bytes, *, max_bytes: int, max_pixels: int, max_side: int = FULL_MAX_SIDE,
                decode_pixels: int = DECODE_MAX_PIXELS) -> tuple[Image.Image, str]:
    """Validate and decode one upload (blocking: run it with :func:`in_decoder`): the upright pixels, already
    shrunk to at most ``max_side`` on each side, in one of RGB/RGBA/L/LA, and the format.

    Raises ImageTooLarge (413) over ``max_bytes``, NotAnImage (400) for anything that is not a decodable
    JPEG/PNG/WebP within ``max_pixels`` — decompression bombs included, also those Pillow only warns about — or
    that would need more than ``decode_pixels`` decoded pixels. Memory: the decoded bitmap (a JPEG's at reduced
    scale) plus the shrunk copy; no full-size copies.
    """
    if len(data) > max_bytes:
        raise ImageTooLarge("The image is larger than %(mb)s MB.", mb=max_bytes // (1024 * 1024))
    if not data:
        raise NotAnImage("The file is empty.")
    try:
        with warnings.catch_warnings():
            # Pillow only *warns* between its own limit and twice that; a warning must refuse the file too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS) as probe:
                # Image.open reads only the header: the declared size is known before any pixel is decoded.
                if probe.width * probe.height > max_pixels:
                    raise NotAnImage("The image has too many pixels.")
                fmt = probe.format or ""
                probe.verify()
            with Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS) as img:
                if fmt == "JPEG":
                    img.draft("RGB", (max_side, max_side))  # decode at the smallest DCT scale still >= max_side
                if img.width * img.height > decode_pixels:
                    raise NotAnImage("The image has too many pixels: at most %(millions)s million for PNG and WebP.",
                                     millions=decode_pixels // 1_000_000)
                img.load()
                ImageOps.exif_transpose(img, in_place=True)  # phone photos: stored sideways plus an EXIF hint
                if img.mode not in _FLAT_MODES:  # palette, 16-bit, CMYK…: bounded by decode_pixels above
                    alpha = "A" in img.getbands() or "transparency" in img.info
                    flat = img.convert("RGBA" if alpha else "RGB")
                else:
                    flat = img
                # In place: reduce() by an integer factor first (cheap, small), then a LANCZOS resize.
                flat.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
                small = flat
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise NotAnImage("The image has too many pixels.") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise NotAnImage() from exc
    if fmt not in ALLOWED_FORMATS:
        raise NotAnImage()
    return small, fmt


def process_image(data: bytes, *, max_bytes: int, max_pixels: int) -> ProcessedImage:
    """A listing photo: :func:`open_upload` (already at most the full size), then a full-size and a thumbnail
    JPEG (blocking; run it with :func:`in_decoder`)."""
    full = _to_rgb(open_upload(data, max_bytes=max_bytes, max_pixels=max_pixels, max_side=FULL_MAX_SIDE)[0])
    thumb = full.copy()
    thumb.thumbnail((THUMB_MAX_SIDE, THUMB_MAX_SIDE), Image.Resampling.LANCZOS)
    return ProcessedImage(full=_encode(full), thumb=_encode(thumb), width=full.width, height=full.height)


# --- storage port ------------------------------------------------------------------------------------------------


class ImageStorage(Protocol):
    """Where image bytes live. LocalStorage now; an S3-compatible store later (docs/architecture.md)."""

    def save(self, key: str, data: bytes, content_type: str) -> None: ...

    def delete(self, key: str) -> None: ...

    def url(self, key: str) -> str: ...


class LocalStorage:
    """Files under ``root`` (settings.media_dir), served at ``/media/<key>`` by listings/views.py."""

    def __init__(self, root: Path, url_prefix: str = "/media/") -> None:
        self.root = root
        self.url_prefix = url_prefix

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"storage key escapes the media folder: {key!r}")
        return path

    def save(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)  # atomic: a reader never sees half a file

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def url(self, key: str) -> str:
        return self.url_prefix + key
