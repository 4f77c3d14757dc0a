"""Uploaded images made safe to serve: decoded, checked and re-encoded with Pillow.

What comes in is never served. An upload must be a JPEG, PNG or WebP by its own signature, end
where its format says it ends (no data appended: that is how an image doubles as a ZIP, PDF or
HTML file), carry no markup, declare no more pixels than the limit (checked from its header,
before anything is decoded: a decompression bomb never reaches memory), and decode whole (a
truncated file is refused). Then it is turned upright by its EXIF orientation, converted to sRGB
when it carries an ICC profile, scaled down to the largest served dimension and encoded afresh
in its own format from bare pixels, so no metadata survives: no EXIF (GPS position, camera,
time), no XMP, no ICC profile, no comments. A thumbnail is made from the same pixels.

Everything here blocks (a large photo takes a fraction of a second): callers run it in a
worker thread, a bounded number at a time.
"""

import hashlib
import io
import re
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from app.core.errors import ApiError, FieldError
from app.domain.vocabulary import ImageType

FILE_FIELD = "file"


class UnsupportedImageError(ApiError):
    status = 415
    slug = "unsupported-image"
    title = "Unsupported image"
    description = (
        "The uploaded `file` is not a JPEG, PNG or WebP image (judged by its bytes, not its "
        "name or declared type)."
    )


class ImageTooLargeError(ApiError):
    status = 413
    slug = "image-too-large"
    title = "Image too large"
    description = (
        "The uploaded `file` is over the upload limit in bytes, or declares more pixels than "
        "the limit (a decompression bomb is refused from its header, before it is decoded)."
    )


class InvalidImageError(ApiError):
    status = 422
    slug = "invalid-image"
    title = "Invalid image"
    description = (
        "The uploaded `file` cannot be accepted as an image: it is truncated or corrupt, "
        "animated, or it carries something besides the image (data after its end, markup or "
        "an archive inside). Nothing was written."
    )


def file_problem(kind: type[ApiError], detail: str, message: str) -> ApiError:
    return kind(detail, [FieldError(location="body", field=FILE_FIELD, message=message)])


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int
    max_pixels: int
    max_dimension: int
    thumbnail_size: int


@dataclass(frozen=True)
class ProcessedImage:
    """An upload as it is stored and served."""

    content_type: ImageType
    data: bytes
    sha256: str
    width: int
    height: int
    thumbnail: bytes
    thumbnail_width: int
    thumbnail_height: int


PIL_FORMATS: dict[ImageType, str] = {
    ImageType.jpeg: "JPEG",
    ImageType.png: "PNG",
    ImageType.webp: "WEBP",
}
MARKUP = re.compile(
    rb"<(?:script|html|body|iframe|object|embed|svg|\?php)[\s>/]|javascript:", re.IGNORECASE
)
"""Markup a browser or a server would act on, found anywhere in an upload: an image carrying it
(often in a comment or metadata) is built to be read as something else."""
JPEG_QUALITY = 85
WEBP_QUALITY = 85
SRGB = ImageCms.createProfile("sRGB")


def sniff(data: bytes) -> ImageType:
    """The format by the file's own signature; 415 naming `file` for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return ImageType.jpeg
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageType.png
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ImageType.webp
    raise file_problem(
        UnsupportedImageError,
        "The file is not a JPEG, PNG or WebP image.",
        "not a JPEG, PNG or WebP image (by its bytes)",
    )


def image_end(data: bytes, kind: ImageType) -> int:
    """Where the image ends by its format's own structure; len(data) + 1 when it never does
    (truncated)."""
    if kind is ImageType.png:
        return _png_end(data)
    if kind is ImageType.webp:
        declared = int.from_bytes(data[4:8], "little") + 8
        return declared + (declared % 2)
    return _jpeg_end(data)


def _png_end(data: bytes) -> int:
    position = 8
    while position + 12 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        chunk_type = data[position + 4 : position + 8]
        position += 12 + length
        if chunk_type == b"IEND":
            return position
    return len(data) + 1


STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xD8)})
"""JPEG markers without a length (TEM, RST0-7)."""


def _jpeg_end(data: bytes) -> int:
    """Walk the segments from SOI; after each start of scan, skip the entropy-coded data (0xFF
    is followed there by 0x00, a restart marker or fill bytes) to the next marker, until EOI."""
    position = 2
    size = len(data)
    while position + 2 <= size:
        if data[position] != 0xFF:
            return size + 1
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker == 0xD9:  # EOI
            return position + 2
        if marker in STANDALONE_MARKERS:
            position += 2
            continue
        if position + 4 > size:
            return size + 1
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        position += 2 + length
        if marker == 0xDA:  # SOS: entropy-coded data follows
            position = _after_scan(data, position)
    return size + 1


def _after_scan(data: bytes, position: int) -> int:
    while True:
        position = data.find(b"\xff", position)
        if position < 0 or position + 1 >= len(data):
            return len(data)
        following = data[position + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            position += 2
        elif following == 0xFF:
            position += 1
        else:
            return position


def check_container(data: bytes, kind: ImageType) -> None:
    """The file holds one image and nothing else: 422 naming `file` otherwise."""
    end = image_end(data, kind)
    if end > len(data):
        raise file_problem(
            InvalidImageError,
            "The image is truncated: it ends before its format says it does.",
            "truncated image",
        )
    trailing = data[end:]
    if trailing.strip(b"\x00"):
        raise file_problem(
            InvalidImageError,
            f"The file carries {len(trailing):,} bytes after the end of the image (a file that "
            "is an image and something else at once is not accepted).",
            "data after the end of the image",
        )
    if MARKUP.search(data):
        raise file_problem(
            InvalidImageError,
            "The file carries markup (HTML, SVG, script or PHP) inside the image.",
            "markup inside the image",
        )


def open_checked(data: bytes, kind: ImageType, limits: ImageLimits) -> Image.Image:
    """The image opened and decoded whole, after its declared size was checked from its header."""
    try:
        image = Image.open(io.BytesIO(data), formats=[PIL_FORMATS[kind]])
    except Image.DecompressionBombError:
        raise too_many_pixels(None, limits) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise file_problem(
            InvalidImageError,
            f"The file starts like a {kind.extension.upper()} image but cannot be read as one.",
            "corrupt image",
        ) from None
    width, height = image.size
    if width * height > limits.max_pixels:
        raise too_many_pixels((width, height), limits)
    if getattr(image, "n_frames", 1) > 1:
        raise file_problem(
            InvalidImageError,
            "The image is animated; attach a still image.",
            "animated image",
        )
    if kind is ImageType.jpeg:
        # libjpeg decodes straight to 1/2, 1/4 or 1/8 of the size, no smaller than served:
        # a 24-megapixel photo then costs a fraction of its full decode in time and memory.
        shrink = min(1.0, limits.max_dimension / max(width, height))
        image.draft(image.mode, (max(1, int(width * shrink)), max(1, int(height * shrink))))
    try:
        image.load()
    except Image.DecompressionBombError:
        raise too_many_pixels((width, height), limits) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise file_problem(
            InvalidImageError,
            "The image is truncated or corrupt: it could not be decoded whole.",
            "truncated or corrupt image",
        ) from None
    return image


def too_many_pixels(size: tuple[int, int] | None, limits: ImageLimits) -> ApiError:
    """413: the image declares more pixels than the limit (Pillow's own bomb check, at open,
    gives no size: it names none)."""
    declared = (
        f"declares {size[0]:,} x {size[1]:,} pixels"
        if size
        else "declares far more pixels than can be decoded (a decompression bomb)"
    )
    return file_problem(
        ImageTooLargeError,
        f"The image {declared}, over the limit of {limits.max_pixels:,} pixels.",
        f"over {limits.max_pixels:,} pixels",
    )


def upright_srgb(image: Image.Image, kind: ImageType) -> Image.Image:
    """Turned by its EXIF orientation, in sRGB, in a mode its format writes (JPEG: RGB or L;
    PNG and WebP keep transparency)."""
    turned = ImageOps.exif_transpose(image)
    icc = image.info.get("icc_profile")
    transparent = turned.mode in ("RGBA", "LA", "PA") or (
        turned.mode == "P" and "transparency" in turned.info
    )
    if kind is ImageType.jpeg:
        mode = "L" if turned.mode in ("L", "1") else "RGB"
    else:
        mode = "RGBA" if transparent else "L" if turned.mode in ("L", "1") else "RGB"
    if icc and turned.mode in ("RGB", "RGBA", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            out_mode = "RGBA" if turned.mode == "RGBA" else "RGB"
            converted = ImageCms.profileToProfile(turned, source, SRGB, outputMode=out_mode)
            if converted is not None:
                turned = converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # an unreadable profile: the pixels are taken as sRGB
    if kind is ImageType.jpeg and turned.mode in ("RGBA", "LA", "PA", "P"):
        turned = turned.convert("RGBA")
        backdrop = Image.new("RGB", turned.size, (255, 255, 255))
        backdrop.paste(turned, mask=turned.getchannel("A"))
        turned = backdrop
    return turned if turned.mode == mode else turned.convert(mode)


def bare(image: Image.Image) -> Image.Image:
    """The same pixels in a new image, with no info, EXIF or profile to carry into a file."""
    return Image.frombytes(image.mode, image.size, image.tobytes())


def encode(image: Image.Image, kind: ImageType) -> bytes:
    out = io.BytesIO()
    if kind is ImageType.jpeg:
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif kind is ImageType.png:
        image.save(out, "PNG", compress_level=7)
    else:
        image.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
    return out.getvalue()


def scaled(image: Image.Image, longest: int) -> Image.Image:
    if max(image.size) <= longest:
        return image
    smaller = image.copy()
    smaller.thumbnail((longest, longest), Image.Resampling.LANCZOS)
    return smaller


def checked(data: bytes, limits: ImageLimits) -> ImageType:
    """The upload's format, once its length, signature and structure pass (413, 415, 422)."""
    if len(data) > limits.max_bytes:
        raise file_problem(
            ImageTooLargeError,
            f"The file is {len(data):,} bytes, over the limit of {limits.max_bytes:,}.",
            f"over {limits.max_bytes:,} bytes",
        )
    if not data:
        raise file_problem(InvalidImageError, "The file is empty.", "empty file")
    kind = sniff(data)
    check_container(data, kind)
    return kind


def process_image(data: bytes, limits: ImageLimits) -> ProcessedImage:
    """An upload checked and re-encoded for storing, with its thumbnail; 413, 415 or 422
    naming `file` for anything that cannot be accepted."""
    kind = checked(data, limits)
    with open_checked(data, kind, limits) as opened:
        image = bare(scaled(upright_srgb(opened, kind), limits.max_dimension))
    stored = encode(image, kind)
    # The thumbnail is made from the stored file as `keep_stored_form` makes it, so it depends
    # on the file's bytes alone (it is served under the file's hash) and an import makes it the
    # same.
    with open_checked(stored, kind, limits) as reopened:
        return stored_as(kind, stored, bare(reopened), limits)


def stored_as(
    kind: ImageType, data: bytes, image: Image.Image, limits: ImageLimits
) -> ProcessedImage:
    thumbnail = bare(scaled(image, limits.thumbnail_size))
    return ProcessedImage(
        content_type=kind,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        width=image.width,
        height=image.height,
        thumbnail=encode(thumbnail, kind),
        thumbnail_width=thumbnail.width,
        thumbnail_height=thumbnail.height,
    )


def keep_stored_form(data: bytes, limits: ImageLimits) -> ProcessedImage:
    """A file already in the form this service stores (what export writes), kept byte for byte
    so that export and import round-trip it: checked like any upload, and refused (422 naming
    `file`) if it carries any metadata, is larger than served, or is in a mode that is never
    stored. Its thumbnail is made afresh."""
    kind = checked(data, limits)
    found = metadata_segments(data, kind)
    if found:
        raise file_problem(
            InvalidImageError,
            f"The file carries metadata ({', '.join(found)}): only files as this service "
            "stores them are kept as they are; upload it to have it re-encoded.",
            "carries metadata",
        )
    with open_checked(data, kind, limits) as opened:
        modes = ("L", "RGB") if kind is ImageType.jpeg else ("L", "RGB", "RGBA")
        if max(opened.size) > limits.max_dimension or opened.mode not in modes:
            raise file_problem(
                InvalidImageError,
                f"The file is {opened.width} x {opened.height} in mode {opened.mode}: not the "
                f"form this service stores (at most {limits.max_dimension} pixels a side).",
                "not in the stored form",
            )
        image = bare(opened)
    return stored_as(kind, data, image, limits)


JPEG_KEPT_SEGMENTS = {0xE0: b"JFIF\x00"}
"""The only application segment a stored JPEG carries: JFIF's (pixel density)."""
PNG_KEPT_CHUNKS = frozenset({b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"pHYs"})
WEBP_KEPT_CHUNKS = frozenset({b"VP8 ", b"VP8L", b"VP8X", b"ALPH"})


def metadata_segments(data: bytes, kind: ImageType) -> list[str]:
    """The names of the segments or chunks carrying anything but the image (EXIF, XMP, ICC,
    comments, text), walked by the format's structure (the container check passed)."""
    if kind is ImageType.png:
        return _png_extra_chunks(data)
    if kind is ImageType.webp:
        return _webp_extra_chunks(data)
    return _jpeg_extra_segments(data)


def _png_extra_chunks(data: bytes) -> list[str]:
    found = []
    position = 8
    while position + 12 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        chunk_type = data[position + 4 : position + 8]
        if chunk_type not in PNG_KEPT_CHUNKS:
            found.append(chunk_type.decode("latin-1"))
        position += 12 + length
    return found


def _webp_extra_chunks(data: bytes) -> list[str]:
    found = []
    position = 12
    while position + 8 <= len(data):
        chunk_type = data[position : position + 4]
        length = int.from_bytes(data[position + 4 : position + 8], "little")
        if chunk_type not in WEBP_KEPT_CHUNKS:
            found.append(chunk_type.decode("latin-1").strip())
        position += 8 + length + (length % 2)
    return found


def _jpeg_extra_segments(data: bytes) -> list[str]:
    """APPn and COM segments before the first scan, but JFIF's."""
    found = []
    position = 2
    while position + 4 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker == 0xFF:
            position += 1
            continue
        if marker == 0xDA or marker == 0xD9:
            break
        if marker in STANDALONE_MARKERS:
            position += 2
            continue
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        payload = data[position + 4 : position + 2 + length]
        is_application = 0xE0 <= marker <= 0xEF
        if marker == 0xFE or (
            is_application and not payload.startswith(JPEG_KEPT_SEGMENTS.get(marker, b"\xff"))
        ):
            found.append("COM" if marker == 0xFE else f"APP{marker - 0xE0}")
        position += 2 + length
    return found
