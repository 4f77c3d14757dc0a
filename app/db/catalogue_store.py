"""The process's catalogue snapshot, kept in step with the database.

Every change to the catalogue bumps `catalogue_state.revision` in its own transaction. A process
polls that one row every `catalogue_refresh_seconds` (at most one second) and loads only the rows
changed since its snapshot; the process that made a change refreshes at once after committing.
"""

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import Session

from app.db.audit_queries import ever_published
from app.db.catalogue_queries import (
    ChangedExercise,
    catalogue_revision,
    changed_exercises,
    load_sources,
)
from app.db.migrations import SchemaGate
from app.db.reachability import Reachability
from app.db.session import DRIVER_UNAVAILABLE_ERRORS, DatabaseUnavailableError
from app.domain.catalogue import Catalogue, CatalogueEntry, Tombstone
from app.domain.exercise import Exercise, Source
from app.domain.exercise_facts import PLAIN, DocumentCodec, UnknownShapeError
from app.domain.routines.verdicts import routine_index
from app.domain.vocabulary import Status

logger = logging.getLogger("app.catalogue")


@dataclass(frozen=True)
class Unreadable:
    """A stored document that does not validate against this code's model."""

    version: int
    problem: str

    @classmethod
    def of(cls, version: int, error: ValidationError) -> "Unreadable":
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(document)"
        return cls(version, f"{first['msg']} at {where}")


class Published(NamedTuple):
    entry: CatalogueEntry


Change = Published | Unreadable | Tombstone | None
"""What a refresh found for one changed exercise: its new published version, a document this
code cannot read (the snapshot keeps what it had), a tombstone (no longer published, once was),
or None (a draft that was never published: no client can hold it)."""


class CatalogueStore:
    """The snapshot and how fresh it is. Loading runs without any lock (a frozen database must
    never block the writers' own refreshes or shutdown behind it); only merging what was loaded
    into the snapshot takes the lock, which is pure computation."""

    def __init__(self, engine: Engine, gate: SchemaGate, reachability: Reachability) -> None:
        self._engine = engine
        self.gate = gate
        self.reachability = reachability
        """Told by every refresh whether the database answered: writes read it."""
        self._merge_lock = threading.Lock()
        self._loads = threading.Condition()
        self._loading = 0
        self.catalogue = Catalogue([], [], revision=-1)
        self.confirmed_at = time.monotonic()
        """When the database last confirmed the snapshot current (time.monotonic())."""
        self.codec: DocumentCodec = PLAIN
        """Packs the documents entries keep: trained from the first large batch loaded."""
        self.unreadable: dict[str, int] = {}
        """Exercises (slug: stored version) whose stored document this code cannot read, most
        likely written by a newer version of the code: the snapshot keeps what it had."""

    def current(self) -> Catalogue:
        """The snapshot, or DatabaseUnavailableError until there is a real one to serve."""
        if self.catalogue.revision < 0:
            self.gate.require()
            raise DatabaseUnavailableError("The catalogue has not been loaded yet.")
        return self.catalogue

    def age(self) -> float:
        """Seconds since the database last confirmed the snapshot."""
        return time.monotonic() - self.confirmed_at

    def wait_until_idle(self) -> None:
        """Block until no refresh holds a connection (a cancelled poll may still be running in
        its worker thread), so the engine can be disposed cleanly."""
        with self._loads:
            self._loads.wait_for(lambda: self._loading == 0)

    def refresh(self) -> bool:
        """Load what changed since the snapshot; True when a new snapshot was built."""
        started = time.monotonic()
        with self._loads:
            self._loading += 1
        try:
            loaded = self._load(since=self.catalogue.revision)
        except DRIVER_UNAVAILABLE_ERRORS:
            self.reachability.failed()
            raise
        else:
            self.reachability.answered()
        finally:
            with self._loads:
                self._loading -= 1
                self._loads.notify_all()
        if loaded is None:
            self._confirm(started)
            return False
        revision, sources, changed = loaded
        with self._merge_lock:
            if revision <= self.catalogue.revision:
                return False
            self.catalogue = self._merged(revision, sources, changed)
            self._confirm(started)
        logger.info("catalogue at revision %s: %s exercises", revision, len(self.catalogue))
        self._index_text_in_background(self.catalogue)
        return True

    @staticmethod
    def _index_text_in_background(catalogue: Catalogue) -> None:
        """A snapshot built whole (the first load, a large import) serves at once; its text
        index is built beside it, and `q` reads the texts until it is done; then the routines'
        groups (`routine_index`), which the first routine would otherwise build."""
        if not catalogue.text_index.started:
            threading.Thread(
                target=index_in_background, args=(catalogue,), name="catalogue-index", daemon=True
            ).start()

    def _merged(
        self, revision: int, sources: list[Source], changed: dict[str, Change]
    ) -> Catalogue:
        """The next snapshot: only the changed rows become new entries."""
        catalogue = self.catalogue
        if catalogue.sources != {source.id: source for source in sources}:
            catalogue = catalogue.with_sources(sources)
        published: dict[str, CatalogueEntry] = {}
        withdrawn: dict[str, Tombstone | None] = {}
        for slug, change in changed.items():
            self.unreadable.pop(slug, None)
            if isinstance(change, Unreadable):
                self.unreadable[slug] = change.version
                self._log_unreadable(slug, change)
            elif isinstance(change, Published):
                published[slug] = change.entry
            else:
                withdrawn[slug] = change
        return catalogue.changed(revision, published, withdrawn)

    def refresh_after_write(self) -> None:
        """A writer's refresh after its commit: the change is committed whatever happens here,
        so a failure is logged, not raised; the poller catches up."""
        try:
            self.refresh()
        except Exception as error:
            logger.warning("catalogue refresh after a write failed: %s", one_line(error))

    def _confirm(self, started: float) -> None:
        self.confirmed_at = max(self.confirmed_at, started)

    def _log_unreadable(self, slug: str, unreadable: "Unreadable") -> None:
        kept = self.catalogue.get(slug)
        keeping = f"keeping version {kept.version}" if kept else "leaving it out"
        logger.warning(
            "exercise %r version %s does not validate against this code (written by a newer "
            "version?): %s; %s",
            slug,
            unreadable.version,
            unreadable.problem,
            keeping,
        )

    def _load(self, since: int) -> tuple[int, list[Source], dict[str, Change]] | None:
        """What changed since `since`: None when the snapshot is current (or the schema not
        ready).

        Rows are read in batches of LOAD_BATCH, each in its own short session, and validated
        after that session has given its connection back, so no unit of work grows with the
        catalogue or with how slowly a busy machine validates: a first load of 100,000 exercises
        stays far inside the hold timeout's watchdog. A row changed while the batches run may
        come at its newer revision; the next refresh, from `revision`, reads it again."""
        if not self.gate.check():
            return None
        changed: dict[str, Change] = {}
        with Session(self._engine) as session:
            revision = catalogue_revision(session)
            if revision == since:
                return None
            sources = load_sources(session)
            rows, once_published = self._read_batch(session, since, "")
        by_id = {source.id: source for source in sources}
        while True:
            after = self._take_batch(rows, once_published, changed, by_id)
            if after is None:
                return revision, sources, changed
            with Session(self._engine) as session:
                rows, once_published = self._read_batch(session, since, after)

    @staticmethod
    def _read_batch(
        session: Session, since: int, after: str
    ) -> tuple[list[ChangedExercise], set[str]]:
        """One batch of the rows changed since `since`, after the slug `after`, and which of
        those no longer published were ever published: database I/O only, so the unit of work
        lasts one query or two, whatever the validation after it costs."""
        rows = changed_exercises(session, since, after, LOAD_BATCH)
        withdrawn = [row.slug for row in rows if row.status != Status.published]
        return rows, ever_published(session, withdrawn)

    def _take_batch(
        self,
        rows: list[ChangedExercise],
        once_published: set[str],
        changed: dict[str, Change],
        sources: dict[str, Source],
    ) -> str | None:
        """Read a batch into `changed`; the slug to continue after, or None after the last.

        A stored document was validated when it was written: its facts are read from the JSON
        (`CatalogueEntry.stored`) without validating it again; only a document whose facts
        cannot be read is validated, to say why."""
        documents = [row.document_json.encode() for row in rows]
        if self.codec is PLAIN:
            self.codec = DocumentCodec.trained(documents)
        for row, document in zip(rows, documents, strict=True):
            if row.status != Status.published:
                published_once = row.slug in once_published
                tombstone = Tombstone.of(row.slug, row.revision, row.status)
                changed[row.slug] = tombstone if published_once else None
                continue
            try:
                entry = CatalogueEntry.stored(
                    document, row.version, sources, row.revision, row.updated_at, self.codec
                )
            except UnknownShapeError:
                changed[row.slug] = unreadable(row, document)
                continue
            changed[row.slug] = Published(entry)
        return rows[-1].slug if len(rows) == LOAD_BATCH else None


LOAD_BATCH = 2000


def index_in_background(catalogue: Catalogue) -> None:
    catalogue.index_text()
    routine_index(catalogue)


def unreadable(row: ChangedExercise, document: bytes) -> "Unreadable":
    """Why a stored document whose facts could not be read is not one this code reads."""
    try:
        Exercise.model_validate_json(document)
    except ValidationError as error:
        return Unreadable.of(row.version, error)
    return Unreadable(row.version, "its facts could not be read")


"""Exercises read per unit of work when loading: about 4 MB of documents."""


def one_line(error: BaseException) -> str:
    """An exception as one log line: its type and the first line of its message."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


class CatalogueWriter:
    """A request's unit of work on the catalogue: commits, then refreshes this process's snapshot
    so the change is visible here at once (other processes see it within the refresh interval)."""

    def __init__(self, engine: Engine, store: CatalogueStore) -> None:
        self.engine = engine
        self.store = store

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """Blocking (the database's I/O included): call it off the event loop."""
        self.store.gate.require()
        self.store.reachability.require()
        with Session(self.engine) as session, session.begin():
            yield session
        self.store.refresh_after_write()
