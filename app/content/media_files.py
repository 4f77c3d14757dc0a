"""Editors' image files as they are stored, and as a seed directory holds them.

An upload is checked and re-encoded (`prepare_file`); a file already in the stored form (what
export writes) is checked the same way and kept byte for byte (`prepare_stored_file`), so its
hash, id and URL survive an export and a seed or import.

In a seed directory an exercise's images sit beside its YAML: `exercises/<slug>.<id>.<ext>`, and
one licence sidecar, `exercises/<slug>.media.yaml`, lists them in order, each with its file name,
its licence (SPDX id), author, source URL and alt text. The exercise's YAML itself holds no
`media`: its records (hash, type, size) are made from the files when the directory is read.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from app.content.images import ImageLimits, ProcessedImage, keep_stored_form, process_image
from app.core.errors import ApiError
from app.core.settings import Settings
from app.db.media_queries import MediaFile
from app.domain.exercise import Attribution, Media
from app.domain.media import media_id
from app.domain.vocabulary import ImageType

SIDECAR_SUFFIX = ".media.yaml"
FILE_KEY = "file"


def image_limits(settings: Settings) -> ImageLimits:
    return ImageLimits(
        max_bytes=settings.media_max_upload_bytes,
        max_pixels=settings.media_max_pixels,
        max_dimension=settings.media_max_dimension,
        thumbnail_size=settings.media_thumbnail_size,
    )


SEED_IMAGE_LIMITS = image_limits(Settings.model_construct())
"""The limits seed files are read under when no settings are given: the settings' defaults."""


def prepare_file(data: bytes, limits: ImageLimits) -> MediaFile:
    """An upload checked and re-encoded into the file to store (blocking: up to a second or two
    for a big photo; 413, 415 or 422 naming `file` when it cannot be accepted)."""
    return media_file(process_image(data, limits))


def prepare_stored_file(data: bytes, limits: ImageLimits) -> MediaFile:
    """A file already in its stored form (as export writes it), checked like an upload and kept
    byte for byte, so its hash, id and URL survive export and import (blocking; 422 naming
    `file` when it carries metadata or is not in the stored form)."""
    return media_file(keep_stored_form(data, limits))


def media_file(image: ProcessedImage) -> MediaFile:
    return MediaFile(
        media_id=media_id(image.sha256),
        sha256=image.sha256,
        content_type=image.content_type.value,
        width=image.width,
        height=image.height,
        data=image.data,
        thumbnail=image.thumbnail,
        thumbnail_width=image.thumbnail_width,
        thumbnail_height=image.thumbnail_height,
    )


def media_record(file: MediaFile, attribution: Attribution) -> Media:
    """The record the exercise's document carries for a stored file and its attribution."""
    return Media(
        id=file.media_id,
        sha256=file.sha256,
        content_type=ImageType(file.content_type),
        width=file.width,
        height=file.height,
        byte_size=len(file.data),
        **attribution.model_dump(),
    )


# --- the seed directory's form ----------------------------------------------------------------


def sidecar_name(slug: str) -> str:
    return f"{slug}{SIDECAR_SUFFIX}"


def seed_file_name(slug: str, media: Media) -> str:
    """Where an image's file sits beside its exercise's YAML."""
    return f"{slug}.{media.id}.{media.content_type.extension}"


def sidecar_document(slug: str, media: list[Media]) -> list[dict[str, Any]]:
    """The licence sidecar: each image's file name and attribution, in the exercise's order."""
    return [
        {FILE_KEY: seed_file_name(slug, item)}
        | item.model_dump(mode="json", include=set(Attribution.model_fields))
        for item in media
    ]


@dataclass(frozen=True)
class SeedMedia:
    """What a sidecar and its files make: the records for the exercise's document, the files to
    store (by hash), and the problems, each as (field path, message)."""

    records: list[dict[str, Any]]
    files: dict[str, MediaFile]
    problems: list[tuple[tuple[str | int, ...], str]]


def read_seed_media(
    slug: str, raw: Any, read: Callable[[str], bytes | None], limits: ImageLimits
) -> SeedMedia:
    """The images a sidecar lists, each file read by `read` (None: missing) and checked as an
    upload is (`prepare_stored_file`): a file that is not in the stored form, or is no safe
    image, is a problem naming its entry."""
    records: list[dict[str, Any]] = []
    files: dict[str, MediaFile] = {}
    problems: list[tuple[tuple[str | int, ...], str]] = []
    if not isinstance(raw, list):
        return SeedMedia([], {}, [((), "expected a list of images")])
    for index, entry in enumerate(raw):
        at: tuple[str | int, ...] = ("media", index)
        if not isinstance(entry, dict):
            problems.append((at, "expected a mapping with file, license, author, source_url, alt"))
            continue
        fields = {key: value for key, value in entry.items() if key != FILE_KEY}
        try:
            attribution = Attribution.model_validate(fields)
        except ValidationError as error:
            problems.extend(((*at, *item["loc"]), item["msg"]) for item in error.errors())
            continue
        name = entry.get(FILE_KEY)
        if (
            not isinstance(name, str)
            or "/" in name
            or "\\" in name
            or not name.startswith(f"{slug}.")
        ):
            problems.append(((*at, FILE_KEY), f"a file name beside the YAML, starting {slug}."))
            continue
        data = read(name)
        if data is None:
            problems.append(((*at, FILE_KEY), f"{name} is missing"))
            continue
        try:
            file = prepare_stored_file(data, limits)
        except ApiError as error:
            problems.append(((*at, FILE_KEY), f"{name}: {error.detail}"))
            continue
        if file.sha256 in files:
            problems.append(((*at, FILE_KEY), f"{name} is listed twice"))
            continue
        files[file.sha256] = file
        records.append(media_record(file, attribution).model_dump(mode="json"))
    return SeedMedia(records, files, problems)
