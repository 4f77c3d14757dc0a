"""Retention at volume: `python -m app purge-routines` over 200,000 expired routines, 40,000 of them
with feedback linking each to the next routine of its chain, on PostgreSQL with default settings.

A scratch database is migrated, the routines and feedback are written with COPY (chains of five
routines, four feedback rows each, then lone routines), and the purge command runs as cron would,
with the defaults (`ROUTINE_PURGE_BATCH_SIZE`, the statement and connection timeouts). The script
prints its wall time, the batches reported, its exit code and what is left (nothing, when it
passes). Not a test: a figure for docs, reproduced with

    .venv/bin/python -m bench.purge [--routines 200000] [--feedback 40000] [--admin-url URL]
"""

import argparse
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import psycopg
from sqlalchemy.engine import make_url

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from bench.catalogue import (  # noqa: E402
    DEFAULT_POSTGRES,
    project_command,
    psycopg_conninfo,
    scratch_database,
)

CHAIN_LENGTH = 5
RETENTION_DAYS = 365
FEEDBACK_DOCUMENT = orjson.dumps(
    {"pain_before": 3, "pain_after": 3, "completed": True, "difficulty": "right"}
).decode()


def write_routines(conninfo: str, routines: int, feedback: int) -> None:
    """`routines` expired routines; the first ones in chains of CHAIN_LENGTH linked by
    `feedback` feedback rows (CHAIN_LENGTH - 1 per chain), the rest alone."""
    chains = feedback // (CHAIN_LENGTH - 1)
    ids = [str(uuid.uuid4()) for _ in range(routines)]
    old = datetime.now(UTC) - timedelta(days=RETENTION_DAYS + 30)
    document = os.urandom(1200)  # about a compressed routine's size
    with psycopg.connect(conninfo) as connection, connection.cursor() as cursor:
        with cursor.copy(
            "COPY routine (id, created_at, outcome, previous_routine_id, document_zstd, "
            "delete_token_hash) FROM STDIN"
        ) as copy:
            for index, routine_id in enumerate(ids):
                chain, place = divmod(index, CHAIN_LENGTH)
                previous = ids[index - 1] if chain < chains and place > 0 else None
                created = old + timedelta(seconds=index)
                copy.write_row([routine_id, created, "routine", previous, document, "h" * 64])
        with cursor.copy(
            "COPY routine_feedback (routine_id, created_at, pain_before, pain_after, completed, "
            "difficulty, new_leg_symptoms, recommendation, rule, next_routine_id, document) "
            "FROM STDIN"
        ) as copy:
            for chain in range(chains):
                for place in range(CHAIN_LENGTH - 1):
                    index = chain * CHAIN_LENGTH + place
                    created = old + timedelta(seconds=index, milliseconds=500)
                    copy.write_row(
                        [ids[index], created, 3, 3, True, "right", False, "repeat",
                         "steady", ids[index + 1], FEEDBACK_DOCUMENT]
                    )  # fmt: skip
        cursor.execute("ANALYZE routine")
        cursor.execute("ANALYZE routine_feedback")


def counts(conninfo: str) -> tuple[int, int]:
    with psycopg.connect(conninfo) as connection:
        routines = connection.execute("SELECT count(*) FROM routine").fetchone()
        feedback = connection.execute("SELECT count(*) FROM routine_feedback").fetchone()
    assert routines is not None
    assert feedback is not None
    return int(routines[0]), int(feedback[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routines", type=int, default=200_000)
    parser.add_argument("--feedback", type=int, default=40_000)
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_POSTGRES", DEFAULT_POSTGRES))
    arguments = parser.parse_args()
    with scratch_database(make_url(arguments.admin_url)) as url:
        database_url = url.render_as_string(hide_password=False)
        project_command("migrate", database_url)
        conninfo = psycopg_conninfo(url)
        started = time.monotonic()
        write_routines(conninfo, arguments.routines, arguments.feedback)
        print(
            f"wrote {counts(conninfo)} routines and feedback in {time.monotonic() - started:.1f} s"
        )
        started = time.monotonic()
        purge = subprocess.run(
            [sys.executable, "-m", "app", "purge-routines"],
            cwd=PROJECT_ROOT,
            env={**os.environ, "DATABASE_URL": database_url},
            capture_output=True,
            text=True,
        )
        elapsed = time.monotonic() - started
        lines = purge.stdout.splitlines()
        left = counts(conninfo)
    batches = sum(line.startswith("... ") for line in lines)
    print(f"purge-routines: exit {purge.returncode} in {elapsed:.1f} s, {batches} batches")
    print(lines[-1] if lines else purge.stderr.strip())
    print(f"left: {left[0]} routines, {left[1]} feedback rows")
    return 0 if purge.returncode == 0 and left == (0, 0) else 1


if __name__ == "__main__":
    raise SystemExit(main())
