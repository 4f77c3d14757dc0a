"""`kill -9` the server while it applies an import: after a restart the catalogue is wholly the old
one or wholly the imported one, never a mix, and an acknowledged import is always there.

On PostgreSQL the kill lands mid-write for certain: the test holds a row lock on the bundle's last
exercise, waits until the import is blocked on it (every other exercise already written in its
transaction), then kills the server. On SQLite, which has no row locks, the kill lands at random
moments within twice the time an import takes."""

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.core.security import Role

TRIALS = 3
Catalogue = dict[str, str]
"""slug: name, enough to tell the two versions apart."""


class Importer:
    """Sends one import from a thread and remembers its answer (0: no answer)."""

    def __init__(self, base: str, admin: dict[str, str], exercises: list[dict[str, Any]]):
        self.status = 0
        self.thread = threading.Thread(target=self._send, args=(base, admin, exercises))
        self.thread.start()

    def _send(self, base: str, admin: dict[str, str], exercises: list[dict[str, Any]]) -> None:
        try:
            response = httpx.post(
                f"{base}/v1/admin/import",
                json={"sources": [], "exercises": exercises},
                headers=admin,
                timeout=60,
            )
            self.status = response.status_code
        except httpx.TransportError:
            pass


def export(base: str, admin: dict[str, str]) -> list[dict[str, Any]]:
    exercises: list[dict[str, Any]] = httpx.get(
        f"{base}/v1/admin/export", headers=admin, timeout=30
    ).json()["exercises"]
    return exercises


def names(exercises: list[dict[str, Any]]) -> Catalogue:
    return {exercise["slug"]: exercise["name"] for exercise in exercises}


@contextmanager
def row_locked(database_url: str, slug: str) -> Iterator[Callable[[], bool]]:
    """Hold a row lock on one exercise; yields a check: is another session waiting on a lock?"""
    engine = sa.create_engine(database_url, poolclass=sa.NullPool)
    try:
        with engine.connect() as holder, engine.connect() as watcher:
            holder.execute(
                sa.text("SELECT 1 FROM exercise WHERE slug = :slug FOR UPDATE"), {"slug": slug}
            )
            database = make_url(database_url).database

            def someone_waits() -> bool:
                waiting = watcher.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = :db "
                        "AND wait_event_type = 'Lock'"
                    ),
                    {"db": database},
                ).scalar_one()
                watcher.rollback()
                return bool(waiting)

            yield someone_waits
            holder.rollback()
    finally:
        engine.dispose()


def test_a_killed_import_leaves_the_catalogue_wholly_old_or_wholly_new(
    fresh_database_url: str,
    issue_key: Callable[..., dict[str, str]],
    server_process: Callable[[str], Any],
) -> None:
    admin = issue_key(fresh_database_url, "importer", Role.admin)
    on_postgres = make_url(fresh_database_url).get_backend_name() == "postgresql"
    server = server_process(fresh_database_url)
    base = server.base
    rng = random.Random(9)
    outcomes: Counter[str] = Counter()
    server.start()
    original = export(base, admin)
    imported = [{**e, "name": f"{e['name']} (imported)"} for e in original]
    started = time.monotonic()
    Importer(base, admin, imported).thread.join()
    import_seconds = time.monotonic() - started
    assert names(export(base, admin)) == names(imported)
    versions = {"old": original, "new": imported}
    current = "new"
    for trial in range(TRIALS):
        target = "old" if current == "new" else "new"
        bundle = versions[target]
        if on_postgres:
            with row_locked(fresh_database_url, bundle[-1]["slug"]) as someone_waits:
                importer = Importer(base, admin, bundle)
                for _ in range(600):
                    if someone_waits():
                        break
                    time.sleep(0.05)
                else:
                    raise AssertionError("the import never reached the locked row")
                server.kill()
        else:
            importer = Importer(base, admin, bundle)
            time.sleep(rng.uniform(0, 2 * import_seconds))
            server.kill()
        importer.thread.join()
        server.start()
        found = names(export(base, admin))
        wholly = [name for name, version in versions.items() if found == names(version)]
        assert wholly, f"trial {trial}: a mix of old and new: {found}"
        if importer.status == 200:
            assert wholly == [target], f"trial {trial}: an acknowledged import is missing"
        applied = "applied" if wholly == [target] else "absent"
        outcomes[f"answered {importer.status or 'nothing'}, import {applied}"] += 1
        current = wholly[0]
    server.stop()
    print(f"kill -9 during an import ({import_seconds:.2f}s each): {dict(outcomes)}")
