"""Uploaded images made safe to serve, without HTTP: what is kept, what is stripped, what is
refused and why."""

import io

import image_files
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from app.content.images import (
    ImageLimits,
    ImageTooLargeError,
    InvalidImageError,
    UnsupportedImageError,
    keep_stored_form,
    process_image,
)
from app.core.errors import ApiError
from app.domain.vocabulary import ImageType

LIMITS = ImageLimits(
    max_bytes=2_000_000, max_pixels=5_000_000, max_dimension=512, thumbnail_size=96
)


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


@pytest.mark.parametrize(
    ("data", "kind", "fmt"),
    [
        (image_files.jpeg(), ImageType.jpeg, "JPEG"),
        (image_files.png(), ImageType.png, "PNG"),
        (image_files.webp(), ImageType.webp, "WEBP"),
    ],
)
def test_each_format_is_kept_scaled_down_with_a_thumbnail(
    data: bytes, kind: ImageType, fmt: str
) -> None:
    image = process_image(data, LIMITS)
    assert image.content_type is kind
    assert (image.width, image.height) == (512, 384)
    stored = opened(image.data)
    assert stored.format == fmt
    assert stored.size == (512, 384)
    thumbnail = opened(image.thumbnail)
    assert thumbnail.format == fmt
    assert thumbnail.size == (image.thumbnail_width, image.thumbnail_height) == (96, 72)


def test_a_small_image_keeps_its_size() -> None:
    image = process_image(image_files.png((200, 100)), LIMITS)
    assert (image.width, image.height) == (200, 100)


def test_exif_and_gps_are_stripped_after_turning_the_photo_upright() -> None:
    upload = image_files.jpeg_with_gps((400, 300), orientation=6)
    assert opened(upload).getexif().get_ifd(image_files.GPS_IFD)
    image = process_image(upload, LIMITS)
    # Orientation 6 means "turn 90 degrees to view": the stored pixels are upright.
    assert (image.width, image.height) == (300, 400)
    for data in (image.data, image.thumbnail):
        stored = opened(data)
        assert not stored.getexif()
        assert "exif" not in stored.info
        assert "icc_profile" not in stored.info
        assert b"Exif" not in data
        assert b"PhoneMaker" not in data


def test_the_hash_names_the_stored_bytes() -> None:
    import hashlib

    image = process_image(image_files.webp(), LIMITS)
    assert image.sha256 == hashlib.sha256(image.data).hexdigest()


def refusal(data: bytes, limits: ImageLimits = LIMITS, keep: bool = False) -> ApiError:
    with pytest.raises(ApiError) as raised:
        (keep_stored_form if keep else process_image)(data, limits)
    error = raised.value
    assert [item.field for item in error.errors] == ["file"]
    return error


@pytest.mark.parametrize(
    "data", [b"just some text\n", image_files.pdf(), image_files.zip_archive(), b"GIF89a...."]
)
def test_what_is_not_a_jpeg_png_or_webp_is_unsupported(data: bytes) -> None:
    assert isinstance(refusal(data), UnsupportedImageError)


@pytest.mark.parametrize("make", [image_files.jpeg, image_files.png, image_files.webp])
def test_a_truncated_file_is_refused(make: object) -> None:
    data = make()  # type: ignore[operator]
    error = refusal(data[: len(data) * 2 // 3])
    assert isinstance(error, InvalidImageError)
    assert "truncated" in error.detail


@pytest.mark.parametrize("make", [image_files.jpeg, image_files.png, image_files.webp])
@pytest.mark.parametrize(
    "appended", [image_files.zip_archive(), b"<html><script>alert(1)</script></html>"]
)
def test_an_image_with_something_appended_is_refused(make: object, appended: bytes) -> None:
    error = refusal(make() + appended)  # type: ignore[operator]
    assert isinstance(error, InvalidImageError)
    assert "after the end of the image" in error.detail


def test_markup_inside_an_image_is_refused() -> None:
    data = image_files.encoded(
        image_files.picture(), "JPEG", comment=b"<script>alert(document.cookie)</script>"
    )
    assert opened(data).format == "JPEG"
    error = refusal(data)
    assert isinstance(error, InvalidImageError)
    assert "markup" in error.detail


def test_a_decompression_bomb_is_refused_from_its_header() -> None:
    error = refusal(image_files.png_bomb())
    assert isinstance(error, ImageTooLargeError)
    assert error.status == 413
    assert "pixels" in error.detail


def test_an_image_over_the_pixel_limit_is_refused_with_its_size() -> None:
    few = ImageLimits(max_bytes=2_000_000, max_pixels=100_000, max_dimension=512, thumbnail_size=96)
    error = refusal(image_files.png_bomb(1000, 1000), few)
    assert isinstance(error, ImageTooLargeError)
    assert "1,000 x 1,000" in error.detail


def test_a_file_over_the_byte_limit_is_refused() -> None:
    small = ImageLimits(max_bytes=1_000, max_pixels=5_000_000, max_dimension=512, thumbnail_size=96)
    data = image_files.jpeg()
    assert len(data) > 1_000
    assert isinstance(refusal(data, small), ImageTooLargeError)


def test_an_animated_image_is_refused() -> None:
    frames = [image_files.picture((64, 64)), image_files.picture((64, 64)).rotate(90)]
    data = image_files.encoded(frames[0], "WEBP", save_all=True, append_images=frames[1:])
    error = refusal(data)
    assert isinstance(error, InvalidImageError)
    assert "animated" in error.detail


def test_transparency_is_kept_in_png() -> None:
    data = image_files.encoded(image_files.picture((64, 64)).convert("RGBA"), "PNG")
    assert opened(process_image(data, LIMITS).data).mode == "RGBA"


@pytest.mark.parametrize("make", [image_files.jpeg, image_files.png, image_files.webp])
def test_a_stored_file_is_kept_byte_for_byte(make: object) -> None:
    stored = process_image(make(), LIMITS)  # type: ignore[operator]
    kept = keep_stored_form(stored.data, LIMITS)
    assert kept.data == stored.data
    assert kept.sha256 == stored.sha256
    assert (kept.width, kept.height) == (stored.width, stored.height)
    assert opened(kept.thumbnail).size == (stored.thumbnail_width, stored.thumbnail_height)


def png_with_text() -> bytes:
    info = PngInfo()
    info.add_text("Comment", "made on a phone")
    return image_files.encoded(image_files.picture((300, 200)), "PNG", pnginfo=info)


def webp_with_exif() -> bytes:
    exif = image_files.picture((8, 8)).getexif()
    exif[image_files.MAKE] = "PhoneMaker"
    return image_files.encoded(image_files.picture((300, 200)), "WEBP", exif=exif.tobytes())


@pytest.mark.parametrize(
    "data",
    [
        image_files.jpeg_with_gps((300, 200)),
        image_files.encoded(image_files.picture((300, 200)), "JPEG", comment=b"a comment"),
        png_with_text(),
        webp_with_exif(),
    ],
    ids=["jpeg-exif", "jpeg-comment", "png-text", "webp-exif"],
)
def test_a_file_carrying_metadata_is_not_kept_as_it_is(data: bytes) -> None:
    error = refusal(data, keep=True)
    assert isinstance(error, InvalidImageError)
    assert "metadata" in error.detail


def test_a_png_may_keep_its_pixel_density() -> None:
    data = image_files.encoded(image_files.picture((300, 200)), "PNG", dpi=(72, 72))
    assert keep_stored_form(data, LIMITS).data == data


def test_a_file_larger_than_served_is_not_kept_as_it_is() -> None:
    error = refusal(image_files.png((1000, 500)), keep=True)
    assert "not the form this service stores" in error.detail
