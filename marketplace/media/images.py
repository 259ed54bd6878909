"""The one image pipeline (listing photos, shop logos and banners): check an upload with Pillow, normalise it,
and keep it behind a storage port.

Uploads are hostile input (DESIGN.md §9): we open only JPEG/PNG/WebP judged by content (never by file name),
refuse images whose declared size exceeds the pixel limit *before* decoding (a 100-byte PNG can declare
100000×100000 pixels), ``verify()`` the file, then re-open and decode it, and re-encode it — which drops EXIF
(GPS positions in phone photos) and any trailing payload. What we store is always our own JPEG.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PIL import Image, ImageOps, UnidentifiedImageError

from marketplace.errors import DomainError, InvalidInput

ALLOWED_FORMATS = ["JPEG", "PNG", "WEBP"]
FULL_MAX_SIDE = 1600
THUMB_MAX_SIDE = 400
JPEG_QUALITY = 85


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


def open_upload(data: bytes, *, max_bytes: int, max_pixels: int) -> tuple[Image.Image, str]:
    """Validate and decode one upload (blocking: run it in a thread): the upright pixels and the format.

    Raises ImageTooLarge (413) over ``max_bytes``, NotAnImage (400) for anything that is not a decodable
    JPEG/PNG/WebP within ``max_pixels`` — decompression bombs included, also those Pillow only warns about.
    """
    if len(data) > max_bytes:
        raise ImageTooLarge(f"The image is larger than {max_bytes // (1024 * 1024)} MB.")
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
                img.load()
                oriented = ImageOps.exif_transpose(img)  # phone photos are stored sideways plus an EXIF hint
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise NotAnImage("The image has too many pixels.") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise NotAnImage() from exc
    if fmt not in ALLOWED_FORMATS:
        raise NotAnImage()
    return oriented, fmt


def process_image(data: bytes, *, max_bytes: int, max_pixels: int) -> ProcessedImage:
    """A listing photo: :func:`open_upload`, then a full-size and a thumbnail JPEG (blocking)."""
    rgb = _to_rgb(open_upload(data, max_bytes=max_bytes, max_pixels=max_pixels)[0])
    full = rgb.copy()
    full.thumbnail((FULL_MAX_SIDE, FULL_MAX_SIDE), Image.Resampling.LANCZOS)
    thumb = rgb.copy()
    thumb.thumbnail((THUMB_MAX_SIDE, THUMB_MAX_SIDE), Image.Resampling.LANCZOS)
    return ProcessedImage(full=_encode(full), thumb=_encode(thumb), width=full.width, height=full.height)


# --- storage port ------------------------------------------------------------------------------------------------


class ImageStorage(Protocol):
    """Where image bytes live. LocalStorage now; an S3-compatible store later (DESIGN.md §8)."""

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
