"""Offline sync: the changes feed and the whole-catalogue download, made as they are asked for.

Every exercise a client may hold has a place in the feed: (the revision of its last change, its
slug). A published one is there with its public document, one published once and no longer with
a tombstone; a draft that was never published is not there at all.

A client that pages through the feed and then asks for what changed since the `revision` it was
given misses nothing, even while writes land between its pages. Every page of one pass answers
up to the same revision (carried in the cursor, lowered if a replica behind it answers a page):
an exercise changed after that revision has left its old place for one past it, and the next
pass brings it.
"""

import zlib
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import orjson

from app.domain.catalogue import Catalogue
from app.domain.vocabulary import SyncChange


class FeedPosition(NamedTuple):
    revision: int
    slug: str


@dataclass(frozen=True)
class FeedQuery:
    since: int
    """Changes after this revision."""
    upto: int | None = None
    """Changes up to this revision: the pass's revision, from its first page's cursor."""
    after: FeedPosition | None = None
    """Where the previous page ended."""
    limit: int = 100


@dataclass(frozen=True)
class FeedPage:
    items: list[bytes]
    revision: int
    """Where the client resumes once it has every page of this pass."""
    next_after: FeedPosition | None


class ChangeFeed:
    """The feed of one snapshot, ordered by (revision, slug): a page is found by bisecting the
    snapshot's feed positions (kept in order as edits land) and only its items are serialised."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.revision = catalogue.revision

    def page(self, query: FeedQuery) -> FeedPage:
        positions = self.catalogue.feed
        upto = self.revision if query.upto is None else min(query.upto, self.revision)
        start = bisect_left(positions, FeedPosition(query.since + 1, ""))
        if query.after is not None:
            start = max(start, bisect_right(positions, query.after))
        end = bisect_left(positions, FeedPosition(upto + 1, ""))
        stop = min(end, start + query.limit)
        next_after = FeedPosition(*positions[stop - 1]) if stop < end else None
        items = [self.item(slug) for _, slug in positions[start:stop]]
        return FeedPage(items, upto, next_after)

    def item(self, slug: str) -> bytes:
        entry = self.catalogue.get(slug)
        if entry is not None:
            document = entry.detail_json_passing()
            return feed_item(slug, entry.revision, SyncChange.published, document)
        tombstone = self.catalogue.tombstones[slug]
        return feed_item(slug, tombstone.revision, tombstone.change, b"null")


def feed_item(slug: str, revision: int, change: SyncChange, exercise: bytes) -> bytes:
    head = orjson.dumps({"slug": slug, "revision": revision, "change": change})
    return head[:-1] + b',"exercise":' + exercise + b"}"


class SyncView:
    """What sync serves from one snapshot, each part built on first use."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    @cached_property
    def changes(self) -> ChangeFeed:
        return ChangeFeed(self.catalogue)

    def document(self) -> Iterator[bytes]:
        """Every published exercise's public document, in slug order, with the revision: made
        a batch at a time as it is sent (from a worker thread), never held whole."""
        entries = self.catalogue.entries
        yield b'{"revision":%d,"items":[' % self.catalogue.revision
        for start in range(0, len(entries), DOCUMENT_BATCH):
            batch = b",".join(
                e.detail_json_passing() for e in entries[start : start + DOCUMENT_BATCH]
            )
            yield batch if start == 0 else b"," + batch
        yield b"]}"

    def document_gzip(self) -> Iterator[bytes]:
        compressor = zlib.compressobj(6, zlib.DEFLATED, GZIP_WINDOW)
        for chunk in self.document():
            compressed = compressor.compress(chunk)
            if compressed:
                yield compressed
        yield compressor.flush()


DOCUMENT_BATCH = 256
GZIP_WINDOW = 16 + zlib.MAX_WBITS
"""zlib's window bits for a gzip stream (header and trailer) rather than raw deflate."""


class SyncViews:
    """Keeps the sync view of the latest snapshot; a new snapshot gets a new view."""

    def __init__(self) -> None:
        self._current: SyncView | None = None

    def for_catalogue(self, catalogue: Catalogue) -> SyncView:
        current = self._current
        if current is None or current.catalogue is not catalogue:
            current = self._current = SyncView(catalogue)
        return current
