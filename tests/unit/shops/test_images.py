"""Shop image checks: formats by content, byte and pixel limits, metadata stripped."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from marketplace.shops.exceptions import ImageTooLarge, InvalidImage
from marketplace.shops.images import clean_image


def encode(fmt: str, size: tuple[int, int] = (40, 30), **kw: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA" if fmt == "PNG" else "RGB", size, (10, 120, 200)).save(out, fmt, **kw)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_allowed_formats_are_kept(fmt: str) -> None:
    img = clean_image(encode(fmt), max_bytes=10**6, max_pixels=10**6, max_side=512)
    assert (img.format, img.width, img.height) == (fmt, 40, 30)
    assert Image.open(io.BytesIO(img.data)).format == fmt


@pytest.mark.parametrize("raw", [b"", b"not an image", b"GIF89a....", b"<svg/>"])
def test_non_images_are_refused(raw: bytes) -> None:
    with pytest.raises(InvalidImage):
        clean_image(raw, max_bytes=10**6, max_pixels=10**6, max_side=512)


def test_gif_and_bmp_are_refused_by_content() -> None:
    for fmt in ("GIF", "BMP"):
        with pytest.raises(InvalidImage):
            clean_image(encode(fmt), max_bytes=10**6, max_pixels=10**6, max_side=512)


def test_truncated_image_is_refused() -> None:
    with pytest.raises(InvalidImage):
        clean_image(encode("PNG", (200, 200))[:200], max_bytes=10**6, max_pixels=10**6, max_side=512)


def test_byte_limit_is_413_and_pixel_limit_is_400() -> None:
    """The one image pipeline's policy (the same as listing photos): too many bytes is "too big" (413), too many
    pixels — a decompression bomb — is "not an image we accept" (400)."""
    raw = encode("PNG", (100, 100))
    with pytest.raises(ImageTooLarge) as big:
        clean_image(raw, max_bytes=len(raw) - 1, max_pixels=10**6, max_side=512)
    assert big.value.status_code == 413
    with pytest.raises(InvalidImage) as bomb:
        clean_image(raw, max_bytes=10**6, max_pixels=9_999, max_side=512)
    assert bomb.value.status_code == 400


def test_exif_is_stripped_and_size_capped() -> None:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    raw = encode("JPEG", (1000, 500), exif=exif.tobytes())
    assert b"SecretCam" in raw
    img = clean_image(raw, max_bytes=10**7, max_pixels=10**7, max_side=512)
    assert b"SecretCam" not in img.data
    assert (img.width, img.height) == (512, 256)
    assert not Image.open(io.BytesIO(img.data)).getexif()
