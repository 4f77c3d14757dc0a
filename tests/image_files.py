"""Real image files for upload tests, made with Pillow: valid ones in each format, a photo with
EXIF (GPS position included), and the files an upload must refuse; and the upload itself."""

import io
import struct
import zipfile
import zlib
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image

ATTRIBUTION = {
    "license": "CC-BY-4.0",
    "author": "A. Physio",
    "source_url": "https://commons.example.org/wiki/File:Stretch.jpg",
    "alt": "A person on hands and knees rounding the back.",
}
"""What an upload says of its image, unless a test says otherwise."""


def upload(
    http: TestClient,
    slug: str,
    headers: dict[str, str],
    data: bytes | None,
    **fields: str | None,
) -> Any:
    """`POST /v1/exercises/{slug}/media` with `data` as the file and ATTRIBUTION, each field
    replaced by `fields` (None leaves it out)."""
    values = {name: value for name, value in {**ATTRIBUTION, **fields}.items() if value is not None}
    files = {"file": ("upload.bin", data, "application/octet-stream")} if data is not None else None
    return http.post(f"/v1/exercises/{slug}/media", data=values, files=files, headers=headers)


GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F


def picture(size: tuple[int, int] = (640, 480), mode: str = "RGB") -> Image.Image:
    """A picture with some detail (a gradient with a block), so encoders have work to do."""
    image = Image.linear_gradient("L").resize(size).convert(mode)
    image.paste((200, 40, 40) if mode == "RGB" else 128, (10, 10, size[0] // 3, size[1] // 3))
    return image


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def jpeg(size: tuple[int, int] = (640, 480)) -> bytes:
    return encoded(picture(size), "JPEG", quality=90)


def png(size: tuple[int, int] = (640, 480)) -> bytes:
    return encoded(picture(size), "PNG")


def webp(size: tuple[int, int] = (640, 480)) -> bytes:
    return encoded(picture(size), "WEBP", quality=90)


def jpeg_with_gps(size: tuple[int, int] = (640, 480), orientation: int = 6) -> bytes:
    """A camera's photo: EXIF with the maker, an orientation (6: turn 90 degrees clockwise to
    view) and a GPS position."""
    image = picture(size)
    exif = image.getexif()
    exif[MAKE] = "PhoneMaker"
    exif[ORIENTATION] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (51.0, 30.0, 12.5)
    gps[3] = "W"
    gps[4] = (0.0, 7.0, 39.0)
    return encoded(image, "JPEG", exif=exif.tobytes(), quality=90)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A small PNG that declares a huge image: decoding it would take width x height bytes."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (width + 1) * 8, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", rows)
        + png_chunk(b"IEND", b"")
    )


def zip_archive() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.html", "<html><script>alert(1)</script></html>")
    return out.getvalue()


def pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
