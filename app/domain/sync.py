"""Offline sync: the changes feed and the whole-catalogue download, prepared once per snapshot.

Every exercise a client may hold has a place in the feed: (the revision of its last change, its
slug). A published one is there with its public document, one published once and no longer with
a tombstone; a draft that was never published is not there at all.

A client that pages through the feed and then asks for what changed since the `revision` it was
given misses nothing, even while writes land between its pages. Every page of one pass answers
up to the same revision (carried in the cursor, lowered if a replica behind it answers a page):
an exercise changed after that revision has left its old place for one past it, and the next
pass brings it.
"""

import gzip
from bisect import bisect_left, bisect_right
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
    """The feed of one snapshot, ordered by (revision, slug), each item serialised once."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.revision = catalogue.revision
        items: list[tuple[FeedPosition, bytes]] = []
        for entry in catalogue.entries:
            revision = catalogue.revisions.get(entry.slug, catalogue.revision)
            item = feed_item(entry.slug, revision, SyncChange.published, entry.detail_json)
            items.append((FeedPosition(revision, entry.slug), item))
        for tombstone in catalogue.tombstones:
            item = feed_item(tombstone.slug, tombstone.revision, tombstone.change, b"null")
            items.append((FeedPosition(tombstone.revision, tombstone.slug), item))
        items.sort(key=lambda pair: pair[0])
        self.positions = [position for position, _ in items]
        self.items = [item for _, item in items]

    def page(self, query: FeedQuery) -> FeedPage:
        upto = self.revision if query.upto is None else min(query.upto, self.revision)
        start = bisect_left(self.positions, FeedPosition(query.since + 1, ""))
        if query.after is not None:
            start = max(start, bisect_right(self.positions, query.after))
        end = bisect_left(self.positions, FeedPosition(upto + 1, ""))
        stop = min(end, start + query.limit)
        next_after = self.positions[stop - 1] if stop < end else None
        return FeedPage(self.items[start:stop], upto, next_after)


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

    @cached_property
    def document(self) -> bytes:
        """Every published exercise's public document, in slug order, with the revision."""
        details = b",".join(entry.detail_json for entry in self.catalogue.entries)
        return b'{"revision":%d,"items":[%b]}' % (self.catalogue.revision, details)

    @cached_property
    def document_gzip(self) -> bytes:
        return gzip.compress(self.document, compresslevel=6, mtime=0)


class SyncViews:
    """Keeps the sync view of the latest snapshot; a new snapshot gets a new view."""

    def __init__(self) -> None:
        self._current: SyncView | None = None

    def for_catalogue(self, catalogue: Catalogue) -> SyncView:
        current = self._current
        if current is None or current.catalogue is not catalogue:
            current = self._current = SyncView(catalogue)
        return current
