"""The process's catalogue snapshot, kept in step with the database.

Every change to the catalogue bumps `catalogue_state.revision` in its own transaction. A process
polls that one row every `catalogue_refresh_seconds` (at most one second) and loads only the rows
changed since its snapshot; the process that made a change refreshes at once after committing.
"""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlmodel import Session

from app.db.catalogue_queries import changed_exercises, current_revision, load_sources
from app.domain.catalogue import Catalogue
from app.domain.exercise import Exercise
from app.domain.vocabulary import Status

logger = logging.getLogger("app.catalogue")


class CatalogueStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._published: dict[str, tuple[Exercise, int]] = {}
        self.catalogue = Catalogue([], [], revision=-1)

    def wait_until_idle(self) -> None:
        """Block until no refresh holds a connection (a cancelled poll may still be running in
        its worker thread), so the engine can be disposed cleanly."""
        with self._lock:
            pass

    def refresh(self) -> bool:
        """Load what changed since the snapshot; True when a new snapshot was built."""
        with self._lock, Session(self._engine) as session:
            revision = current_revision(session)
            if revision == self.catalogue.revision:
                return False
            sources = load_sources(session)
            for changed in changed_exercises(session, since_revision=self.catalogue.revision):
                if changed.status == Status.published:
                    exercise = Exercise.model_validate_json(changed.document_json)
                    self._published[changed.slug] = (exercise, changed.version)
                else:
                    self._published.pop(changed.slug, None)
            self.catalogue = Catalogue(self._published.values(), sources, revision)
            logger.info("catalogue at revision %s: %s exercises", revision, len(self.catalogue))
            return True


class CatalogueWriter:
    """A request's unit of work on the catalogue: commits, then refreshes this process's snapshot
    so the change is visible here at once (other processes see it within the refresh interval)."""

    def __init__(self, engine: Engine, store: CatalogueStore) -> None:
        self.engine = engine
        self.store = store

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        with Session(self.engine) as session, session.begin():
            yield session
        self.store.refresh()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with Session(self.engine) as session:
            yield session
