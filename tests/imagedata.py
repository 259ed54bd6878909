"""Image bytes for upload tests: real pictures, a fake one, and a decompression bomb."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def png_bytes(width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 80, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


def jpeg_with_exif(width: int = 80, height: int = 60) -> bytes:
    img = Image.new("RGB", (width, height), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny, valid-looking PNG whose header declares ``width × height`` pixels."""
    data = bytearray(png_bytes(1, 1))
    # Signature (8) + length (4) + b"IHDR" (4), then width and height; the chunk CRC covers type + 13 data bytes.
    struct.pack_into(">II", data, 16, width, height)
    struct.pack_into(">I", data, 29, zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    return bytes(data)
