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

import ctypes
import ctypes.util
import operator
import struct
import threading
import zlib
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from typing import NamedTuple, cast

import orjson

from app.domain.catalogue import Catalogue, CatalogueEntry
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

    def __init__(self, catalogue: Catalogue, pieces: "DownloadPieces | None" = None) -> None:
        self.catalogue = catalogue
        self.pieces = pieces if pieces is not None else DownloadPieces()

    @cached_property
    def changes(self) -> ChangeFeed:
        return ChangeFeed(self.catalogue)

    def document_gzip(self) -> Iterator[bytes]:
        """Every published exercise's public document, in slug order, with the revision, as one
        gzip stream: the compressed pieces of the runs of entries unchanged since an earlier
        download are sent as they were kept; only the runs an edit changed are made again. Made
        a run at a time as it is sent (from a worker thread), never held whole."""
        joined = GzipJoin()
        yield joined.header()
        for piece in self._pieces():
            yield joined.add(piece)
        yield joined.trailer()

    def document(self) -> Iterator[bytes]:
        """The same document uncompressed, for a client that does not accept gzip."""
        for piece in self._pieces():
            yield zlib.decompressobj(RAW_DEFLATE).decompress(piece.deflated)

    def _pieces(self) -> Iterator["Piece"]:
        yield Piece.of(b'{"revision":%d,"items":[' % self.catalogue.revision)
        for index, run in enumerate(self.pieces.runs(self.catalogue.entries)):
            if index:
                yield COMMA
            yield run
        yield CLOSE
        self.pieces.forget_unused()


RAW_DEFLATE = -zlib.MAX_WBITS
"""zlib's window bits for deflate without a header or trailer."""
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class Piece:
    """Plain bytes compressed on their own as raw deflate, ending on a byte boundary and not
    final (a sync flush), so pieces laid end to end make one deflate stream; with the plain
    length and CRC-32 that gzip's trailer needs."""

    deflated: bytes
    crc: int
    length: int

    @classmethod
    def of(cls, plain: bytes) -> "Piece":
        compressor = zlib.compressobj(6, zlib.DEFLATED, RAW_DEFLATE)
        deflated = compressor.compress(plain) + compressor.flush(zlib.Z_SYNC_FLUSH)
        return cls(deflated, zlib.crc32(plain), len(plain))


COMMA = Piece.of(b",")
CLOSE = Piece.of(b"]}")


class GzipJoin:
    """One gzip stream from pieces: a header, the pieces, a final empty block, the trailer."""

    def __init__(self) -> None:
        self.crc = 0
        self.length = 0

    def header(self) -> bytes:
        return GZIP_MAGIC + b"\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no name, no time

    def add(self, piece: Piece) -> bytes:
        self.crc = crc32_combine(self.crc, piece.crc, piece.length)
        self.length += piece.length
        return piece.deflated

    def trailer(self) -> bytes:
        final_empty_block = b"\x03\x00"
        return final_empty_block + struct.pack("<II", self.crc, self.length & 0xFFFFFFFF)


class DownloadPieces:
    """The download's compressed runs of entries, kept from one snapshot to the next.

    The entries (in slug order) are cut into runs where a slug's hash says so, so a new or
    withdrawn exercise changes only its own run's bounds, not every run after it. A run is kept
    with the entry objects it was made from: a snapshot shares every unchanged entry with the
    one before, so a run whose entries are the same objects is sent as it was kept. What a
    download did not use is forgotten when it ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[str, tuple[tuple[CatalogueEntry, ...], Piece]] = {}
        self._used: set[str] = set()

    def runs(self, entries: Sequence[CatalogueEntry]) -> Iterator[Piece]:
        run: list[CatalogueEntry] = []
        for entry in entries:
            run.append(entry)
            if len(run) == RUN_MOST or run_ends_after(entry.slug):
                yield self._piece(tuple(run))
                run = []
        if run:
            yield self._piece(tuple(run))

    def _piece(self, run: tuple[CatalogueEntry, ...]) -> Piece:
        first = run[0].slug
        with self._lock:
            kept = self._kept.get(first)
            self._used.add(first)
        if kept is not None and len(kept[0]) == len(run) and all(map(operator.is_, kept[0], run)):
            return kept[1]
        piece = Piece.of(b",".join(entry.detail_json_passing() for entry in run))
        with self._lock:
            self._kept[first] = (run, piece)
        return piece

    def forget_unused(self) -> None:
        with self._lock:
            self._kept = {first: self._kept[first] for first in self._used if first in self._kept}
            self._used = set()


RUN_MEAN = 64
"""Entries per run of the download, on average: a run is what an edit makes again."""
RUN_MOST = 4 * RUN_MEAN


def run_ends_after(slug: str) -> bool:
    return zlib.crc32(slug.encode()) % RUN_MEAN == 0


@cache
def zlib_crc32_combine() -> Callable[[int, int, int], int]:
    """zlib's own `crc32_combine64`, from the libz this interpreter's zlib module uses: Python's
    zlib module does not expose it."""
    library = ctypes.CDLL(ctypes.util.find_library("z") or "libz.so.1")
    combine = library.crc32_combine64
    combine.argtypes = (ctypes.c_ulong, ctypes.c_ulong, ctypes.c_int64)
    combine.restype = ctypes.c_ulong
    return cast(Callable[[int, int, int], int], combine)


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """The CRC-32 of two byte strings laid end to end, from each one's CRC and the second's
    length."""
    return zlib_crc32_combine()(crc1, crc2, length2)


class SyncViews:
    """Keeps the sync view of the latest snapshot; a new snapshot gets a new view, with the
    download's pieces carried over."""

    def __init__(self) -> None:
        self._current: SyncView | None = None
        self._pieces = DownloadPieces()

    def for_catalogue(self, catalogue: Catalogue) -> SyncView:
        current = self._current
        if current is None or current.catalogue is not catalogue:
            current = self._current = SyncView(catalogue, self._pieces)
        return current
