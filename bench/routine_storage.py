"""What one stored routine costs in the database, on SQLite and on PostgreSQL.

For each store: a fresh database, migrated and seeded by the project's own commands, then
`--count` routines created through the real app (in process), the bench's 13 profiles in turn
with seeds 0-6, so routines differ as they do in use. The growth of the `routine` table (rows,
TOAST and indexes on PostgreSQL; used pages of the whole file after a WAL checkpoint on SQLite)
is divided by the count. For comparison, the same routines' JSON is also inserted, uncompressed,
into a table shaped as `routine` was before compression (`routine_plain`), and measured alike.

    .venv/bin/python bench/routine_storage.py                 # SQLite, and PostgreSQL if it answers
    .venv/bin/python bench/routine_storage.py --count 5000 --postgres URL

Results are printed and written to var/bench/routine_storage.json.
"""

import argparse
import statistics
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from app.core.settings import Settings  # noqa: E402
from app.db.session import build_engine  # noqa: E402
from app.main import create_app  # noqa: E402
from bench.catalogue import (  # noqa: E402
    BENCH_DIR,
    DEFAULT_POSTGRES,
    environment,
    project_command,
    write_json,
)
from bench.routines import PROFILES, fresh_database  # noqa: E402

TARGET_BYTES = 6 * 1024
PLAIN = sa.Table(
    "routine_plain",
    sa.MetaData(),
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("previous_routine_id", sa.String(36), index=True),
    sa.Column("document", sa.Text, nullable=False),
)


def sqlite_used_bytes(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar_one()
        free = connection.exec_driver_sql("PRAGMA freelist_count").scalar_one()
        size = connection.exec_driver_sql("PRAGMA page_size").scalar_one()
    return int((pages - free) * size)


def postgres_table_bytes(table: str) -> Callable[[sa.Engine], int]:
    def measure(engine: sa.Engine) -> int:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    sa.text("SELECT pg_total_relation_size(:table)"), {"table": table}
                ).scalar_one()
            )

    return measure


def profiles(count: int) -> list[dict[str, Any]]:
    return [{**PROFILES[number % len(PROFILES)], "seed": number % 7} for number in range(count)]


def measure_store(kind: str, url: str, count: int) -> dict[str, Any]:
    project_command("migrate", url)
    project_command("seed", url)
    engine = build_engine(url)
    PLAIN.metadata.create_all(engine)
    routine_size = sqlite_used_bytes if kind == "sqlite" else postgres_table_bytes("routine")
    plain_size = sqlite_used_bytes if kind == "sqlite" else postgres_table_bytes("routine_plain")

    before = routine_size(engine)
    bodies: list[bytes] = []
    with TestClient(create_app(Settings(database_url=url))) as client:
        for profile in profiles(count):
            created = client.post("/v1/routines", json=profile)
            if created.status_code != 201:
                raise RuntimeError(f"POST /v1/routines answered {created.status_code}")
            stored = client.get(created.headers["location"]).content
            token = created.json()["delete_token"]
            if created.content != stored[:-1] + b',"delete_token":"' + token.encode() + b'"}':
                raise RuntimeError("GET did not return creation's bytes")
            bodies.append(stored)
    after = routine_size(engine)

    with engine.connect() as connection:
        compressed = [
            len(value)
            for value in connection.execute(sa.text("SELECT document_zstd FROM routine")).scalars()
        ]
        dictionaries = connection.execute(
            sa.text("SELECT count(*), coalesce(sum(length(content)), 0) FROM routine_dictionary")
        ).one()

    plain_before = plain_size(engine)
    with engine.begin() as connection:
        connection.execute(
            sa.insert(PLAIN),
            [
                {
                    "id": str(uuid.uuid4()),
                    "created_at": datetime.now(UTC),
                    "outcome": "routine",
                    "previous_routine_id": None,
                    "document": body.decode(),
                }
                for body in bodies
            ],
        )
    plain_after = plain_size(engine)
    engine.dispose()
    return {
        "store": kind,
        "routines": count,
        "json_bytes_mean": round(statistics.mean(len(body) for body in bodies)),
        "json_bytes_max": max(len(body) for body in bodies),
        "compressed_bytes_mean": round(statistics.mean(compressed)),
        "compressed_bytes_max": max(compressed),
        "dictionaries": int(dictionaries[0]),
        "dictionary_bytes": int(dictionaries[1]),
        "stored_bytes_per_routine": round((after - before) / count),
        "plain_bytes_per_routine": round((plain_after - plain_before) / count),
    }


def postgres_database(admin_url: str) -> str:
    name = f"backcare_storage_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def postgres_answers(url: str) -> bool:
    engine = sa.create_engine(url, poolclass=sa.NullPool, connect_args={"connect_timeout": 2})
    try:
        with engine.connect():
            return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="routines per store")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="an admin URL")
    arguments = parser.parse_args()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)

    results = [measure_store("sqlite", fresh_database("routine_storage.db"), arguments.count)]
    if postgres_answers(arguments.postgres):
        url = postgres_database(arguments.postgres)
        try:
            results.append(measure_store("postgresql", url, arguments.count))
        finally:
            drop_postgres_database(arguments.postgres, url)
    else:
        print(f"PostgreSQL does not answer at {arguments.postgres}: SQLite only")

    print(f"\n{arguments.count} routines per store, the bench's 13 profiles with seeds 0-6\n")
    header = f"{'store':<12}{'JSON mean':>10}{'zstd mean':>10}{'zstd max':>10}"
    print(header + f"{'stored/routine':>16}{'plain/routine':>15}  target")
    verdict = True
    for result in results:
        passed = result["stored_bytes_per_routine"] <= TARGET_BYTES
        verdict = verdict and passed
        print(
            f"{result['store']:<12}{result['json_bytes_mean']:>10}"
            f"{result['compressed_bytes_mean']:>10}{result['compressed_bytes_max']:>10}"
            f"{result['stored_bytes_per_routine']:>16}{result['plain_bytes_per_routine']:>15}"
            f"  <= {TARGET_BYTES} {'PASS' if passed else 'FAIL'}"
        )
    output = write_json(
        "routine_storage.json",
        {**environment(), "target_bytes": TARGET_BYTES, "results": results},
    )
    print(f"\nwrote {output.relative_to(PROJECT_ROOT)}")
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
