"""Editors' images of an exercise, for the JSON API, the admin UI and the CLI: attach (checked
and re-encoded off the event loop, a bounded number at a time), list, remove, and serve a file
by its content hash.

An image's record is part of the exercise's document (so its versions, the changes feed,
`/v1/catalogue`, export and the audit trail carry it as they carry any field); its file is a row
of `exercise_media`, served while the published version of its exercise lists it: not for a
draft, not once retired, not once removed.
"""

import base64
from dataclasses import dataclass
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from app.content import media as media_edits
from app.content.editing import current_row
from app.content.images import ImageLimits
from app.content.media_files import prepare_file
from app.core.errors import NotFoundError
from app.core.lru import LruCache
from app.core.work_gate import WorkGate
from app.db.catalogue_store import CatalogueWriter
from app.db.media_queries import MediaFile, ServedFile, files_by_hash
from app.domain.catalogue import Catalogue
from app.domain.exercise import Attribution, Exercise
from app.domain.media import media_links, shown_media
from app.domain.vocabulary import ImageType
from app.handout.view import Photo, photo_credit
from app.services.content import Content

FILE_CACHE_ENTRIES = 128
FILE_CACHE_MAX_BYTES = 512 * 1024
"""Files kept per process are at most this long (every thumbnail, most photos), so the cache
holds at most 64 MB."""


@dataclass(frozen=True)
class Attached:
    """An attached image as the API shows it, and the exercise's version the attach made."""

    slug: str
    version: int
    record: dict[str, Any]


@dataclass(frozen=True)
class ServedImage:
    body: bytes
    content_type: str
    etag: str


class ExerciseMedia:
    def __init__(self, writer: CatalogueWriter, limits: ImageLimits, gate: WorkGate) -> None:
        self._writer = writer
        self.limits = limits
        self._gate = gate
        self._files: LruCache[tuple[str, bool], list[ServedFile]] = LruCache(FILE_CACHE_ENTRIES)

    # --- writes -----------------------------------------------------------------------------

    async def attach(
        self,
        slug: str,
        data: bytes,
        attribution: Attribution,
        expected_version: int | None,
        actor: str,
    ) -> Attached:
        """Check and re-encode the upload in a worker thread (503 when as many are in progress
        or waiting as the gate allows), then store it as an edit of the exercise."""
        async with self._gate.admit():
            file = await run_in_threadpool(prepare_file, data, self.limits)
        return await run_in_threadpool(
            self.attach_file, slug, file, attribution, expected_version, actor
        )

    def attach_file(
        self,
        slug: str,
        file: MediaFile,
        attribution: Attribution,
        expected_version: int | None,
        actor: str,
    ) -> Attached:
        """A prepared file attached in its own unit of work (blocking)."""
        with self._writer.unit_of_work() as session:
            saved, media = media_edits.attach_media(
                session, slug, file, attribution, expected_version, actor
            )
        return Attached(slug, saved.version, media_links(media))

    def remove(self, slug: str, id_: str, expected_version: int | None, actor: str) -> int:
        """Take the image off the exercise and delete its file (blocking); the new version."""
        with self._writer.unit_of_work() as session:
            return media_edits.remove_media(session, slug, id_, expected_version, actor).version

    # --- reads ------------------------------------------------------------------------------

    def listing(self, catalogue: Catalogue, slug: str) -> tuple[int, list[dict[str, Any]]]:
        """The published exercise's version and its images as the API shows them."""
        entry = catalogue.get(slug)
        if entry is None:
            raise NotFoundError(f"No published exercise has the slug {slug!r}.")
        return entry.version, shown_media(entry.exercise.media)

    def record(self, catalogue: Catalogue, slug: str, id_: str) -> tuple[int, dict[str, Any]]:
        version, items = self.listing(catalogue, slug)
        for item in items:
            if item["id"] == id_:
                return version, item
        raise NotFoundError(f"{slug!r} has no image {id_!r}.")

    async def image(
        self, catalogue: Catalogue, sha256: str, extension: str, thumbnail: bool
    ) -> ServedImage:
        """The file (or its thumbnail) with this hash, if a published exercise lists it under
        this extension; 404 otherwise (never attached, removed, its exercise a draft or
        retired). Files are kept in a bounded cache (on the event loop's thread); one the cache
        holds but that no published exercise lists is read again, since the same image may
        have been attached to another exercise since."""
        key = (sha256, thumbnail)
        cached = self._files.get(key)
        found = None if cached is None else listed(catalogue, sha256, extension, thumbnail, cached)
        if found is None:
            files = await run_in_threadpool(self.load_files, sha256, thumbnail)
            if files and all(len(file.body) <= FILE_CACHE_MAX_BYTES for file in files):
                self._files.put(key, files)
            found = listed(catalogue, sha256, extension, thumbnail, files)
        if found is None:
            raise NotFoundError("No published exercise has this image.")
        return found

    def load_files(self, sha256: str, thumbnail: bool) -> list[ServedFile]:
        """The stored files with the hash (blocking: a database read)."""
        with self._read() as session:
            return files_by_hash(session, sha256, thumbnail)

    def _read(self) -> Session:
        self._writer.store.gate.require()
        return Session(self._writer.engine)

    def stored_file(self, slug: str, id_: str, thumbnail: bool = False) -> ServedImage:
        """An exercise's image file in any status, for editors (blocking): the admin UI's
        pages and export."""
        with self._read() as session:
            row = current_row(session, slug)
            for item in Exercise.model_validate(row.document).media:
                if item.id == id_:
                    for file in files_by_hash(session, item.sha256, thumbnail):
                        if file.slug == slug:
                            suffix = "-thumbnail" if thumbnail else ""
                            etag = f'"{item.sha256}{suffix}"'
                            return ServedImage(file.body, file.content_type, etag)
        raise NotFoundError(f"{slug!r} has no image {id_!r}.")

    def handout_photo(
        self, catalogue: Catalogue, content: Content, slug: str, version: int
    ) -> Photo | None:
        """The exercise version's first image as a printed sheet shows it: its thumbnail inline
        (a data URI: the sheet stays one self-contained page) with its alt text and credit.
        None without images, or when the image's file was removed since. Blocking."""
        entry = content.entry_at(catalogue, slug, version)
        media = [] if entry is None else entry.exercise.media
        if not media:
            return None
        first = media[0]
        try:
            thumbnail = self.stored_file(slug, first.id, thumbnail=True)
        except NotFoundError:
            return None
        encoded = base64.b64encode(thumbnail.body).decode("ascii")
        return Photo(
            data_uri=f"data:{thumbnail.content_type};base64,{encoded}",
            alt=first.alt,
            credit=photo_credit(first.author, first.license.value, str(first.source_url)),
        )


def listed(
    catalogue: Catalogue, sha256: str, extension: str, thumbnail: bool, files: list[ServedFile]
) -> ServedImage | None:
    """The first of `files` a published exercise lists under this extension."""
    for file in files:
        entry = catalogue.get(file.slug)
        if entry is None or ImageType(file.content_type).extension != extension:
            continue
        if sha256 in entry.media_hashes:
            suffix = "-thumbnail" if thumbnail else ""
            return ServedImage(file.body, file.content_type, f'"{sha256}{suffix}"')
    return None
