"""The changes feed over snapshots, without HTTP: a client paging through it while writes land and
replicas answer a revision behind never misses a change."""

import zlib
from functools import cache

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
from seeded import SEED_DIR

from app.content.bundle import load_seed_directory
from app.domain.catalogue import Catalogue, Tombstone
from app.domain.exercise import Exercise, Source
from app.domain.sync import FeedPosition, FeedQuery, SyncView, crc32_combine
from app.domain.vocabulary import Status

Event = tuple[int, bool]
"""One write: which exercise (an index) and whether it is published afterwards."""


@cache
def seed() -> tuple[list[Exercise], list[Source]]:
    bundle = load_seed_directory(SEED_DIR)
    return list(bundle.exercises), list(bundle.sources)


def snapshot(history: list[Event], revision: int) -> Catalogue:
    """The catalogue after the first `revision` writes; write n has revision n and gives its
    exercise version n, so a document says which write it came from."""
    exercises, sources = seed()
    last: dict[int, tuple[int, bool]] = {}
    for number, (index, published) in enumerate(history[:revision], start=1):
        last[index] = (number, published)
    live = {index: number for index, (number, published) in last.items() if published}
    return Catalogue(
        [(exercises[index], number) for index, number in live.items()],
        sources,
        revision,
        revisions={exercises[index].slug: number for index, number in live.items()},
        tombstones=[
            Tombstone.of(exercises[index].slug, number, Status.retired)
            for index, (number, published) in last.items()
            if not published
        ],
    )


def truth(history: list[Event], revision: int) -> dict[str, int]:
    return {entry.slug: entry.version for entry in snapshot(history, revision).entries}


@settings(max_examples=150, deadline=None)
@given(
    history=st.lists(st.tuples(st.integers(0, 7), st.booleans()), min_size=1, max_size=30),
    steps=st.lists(st.tuples(st.integers(0, 3), st.booleans(), st.integers(1, 4)), max_size=40),
)
def test_a_pass_then_a_pass_since_its_revision_misses_nothing(
    history: list[Event], steps: list[tuple[int, bool, int]]
) -> None:
    """Each step lets some writes land, then the client asks for a page from the newest
    snapshot or from a replica one revision behind it. Once the writes stop, one more pass
    leaves the client's copy equal to the catalogue."""
    written = 0
    copy: dict[str, int] = {}
    since = 0
    cursor: tuple[int, FeedPosition] | None = None
    for writes, lagging, limit in [*steps, *[(len(history), False, 4)] * 40]:
        written = min(len(history), written + writes)
        served = max(0, written - 1) if lagging else written
        view = SyncView(snapshot(history, served))
        query = FeedQuery(since=since, limit=limit)
        if cursor is not None:
            query = FeedQuery(since=since, upto=cursor[0], after=cursor[1], limit=limit)
        page = view.changes.page(query)
        assert page.revision <= served
        for item in map(orjson.loads, page.items):
            assert item["revision"] <= page.revision
            if item["change"] == "published":
                copy[item["slug"]] = item["exercise"]["version"]
            else:
                copy.pop(item["slug"], None)
        if page.next_after is None:
            since, cursor = page.revision, None
            if written == len(history) and since == written:
                break
        else:
            cursor = (page.revision, page.next_after)
    assert copy == truth(history, len(history))


def test_a_replica_behind_the_first_page_lowers_the_pass_revision() -> None:
    history = [(index, True) for index in range(6)]
    first = SyncView(snapshot(history, 6)).changes.page(FeedQuery(since=0, limit=2))
    assert first.revision == 6
    assert first.next_after is not None
    behind = SyncView(snapshot(history, 5)).changes.page(
        FeedQuery(since=0, upto=first.revision, after=first.next_after, limit=10)
    )
    assert behind.revision == 5
    assert [orjson.loads(item)["revision"] for item in behind.items] == [3, 4, 5]


def test_the_download_holds_every_published_document() -> None:
    catalogue = snapshot([(index, index != 2) for index in range(5)], 5)
    view = SyncView(catalogue)
    document = orjson.loads(b"".join(view.document()))
    assert document["revision"] == 5
    assert [item["slug"] for item in document["items"]] == sorted(catalogue.slugs)
    assert len(document["items"]) == 4


@given(st.binary(max_size=300), st.binary(max_size=3000))
def test_two_pieces_crcs_combine_into_the_crc_of_both(first: bytes, second: bytes) -> None:
    combined = crc32_combine(zlib.crc32(first), zlib.crc32(second), len(second))
    assert combined == zlib.crc32(first + second)
