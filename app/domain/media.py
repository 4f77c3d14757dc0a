"""Editors' images as the API shows them: each record with the URLs of its file and thumbnail.

A file's URL is named by the SHA-256 of its bytes, so what a URL names never changes and may be
cached for good; the thumbnail is made from that file alone, so it shares the name.
"""

from typing import Any

from app.domain.exercise import Media
from app.domain.vocabulary import ImageType

MEDIA_PATH = "/v1/media"


def media_id(sha256: str) -> str:
    """A record's id within its exercise: the head of its file's hash."""
    return sha256[:12]


def file_path(sha256: str, content_type: ImageType) -> str:
    return f"{MEDIA_PATH}/{sha256}.{content_type.extension}"


def thumbnail_path(sha256: str, content_type: ImageType) -> str:
    return f"{MEDIA_PATH}/{sha256}/thumbnail.{content_type.extension}"


def media_links(media: Media) -> dict[str, Any]:
    """A record as documents show it: its fields, then `url` and `thumbnail_url`."""
    shown = media.model_dump(mode="json")
    shown["url"] = file_path(media.sha256, media.content_type)
    shown["thumbnail_url"] = thumbnail_path(media.sha256, media.content_type)
    return shown


def shown_media(media: list[Media]) -> list[dict[str, Any]]:
    return [media_links(item) for item in media]
