"""Benchmark of the catalogue list endpoint, `GET /v1/exercises?safe_for=...&target_area=...`.

Default mode (SQLite, the seeded catalogue): the real app and two ceilings serving the same bytes
(bench/ceilings.py: a bare ASGI app and a FastAPI app declaring the same query parameters) are each
started in turn with one uvicorn worker on 127.0.0.1 and loaded with wrk; the script prints
requests/s, p50 and p99 of all three, the ratios, and PASS/FAIL against the targets (the list
reaches 80% of the FastAPI ceiling's requests/s, with p99 at most 1.5x the ceiling's p99).

Scale mode (`--scale N`, PostgreSQL): a fresh database gets N synthetic exercises varied from the
seeded ones, the real app loads it, and the script reports the start-up time, p50/p99 of the same
query under wrk at low concurrency (target p50 under 10 ms), deep pages followed by cursor, a filter
that matches one exercise, and the server's memory.

Results are printed and written as JSON under var/bench/. See bench/README.md.
"""

import argparse
import json
import os
import platform
import random
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
from sqlalchemy.engine import URL, make_url

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from app.content.bundle import load_seed_directory  # noqa: E402
from app.db.catalogue_queries import progression_links  # noqa: E402
from app.db.models import (  # noqa: E402
    CatalogueStateRow,
    ExerciseProgressionRow,
    ExerciseRow,
    SourceRow,
)
from app.domain.exercise import Exercise  # noqa: E402
from app.domain.vocabulary import Level, Position, TargetArea  # noqa: E402

BENCH_DIR = PROJECT_ROOT / "var" / "bench"
SEED_DIR = PROJECT_ROOT / "seed"
LIST_PATH = "/v1/exercises"
UVICORN_OPTIONS = (
    "--workers", "1",
    "--loop", "uvloop",
    "--http", "httptools",
    "--no-access-log",
    "--log-level", "warning",
)  # fmt: skip
WARM_UP_SECONDS = 2
TARGET_RPS_RATIO = 0.80
TARGET_P99_RATIO = 1.5
SCALE_P50_TARGET_MS = 10.0
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

LATENCY_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
NUMBER_WITH_UNIT = r"([\d.]+)(us|ms|s|m)"


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    command: str


@dataclass(frozen=True)
class Memory:
    rss_mib: float
    hwm_mib: float


@dataclass(frozen=True)
class Timings:
    """Sequential single-request latencies, in milliseconds."""

    count: int
    p50_ms: float
    max_ms: float


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    started_in_s: float


def parse_latency_ms(value: str, unit: str) -> float:
    return float(value) * LATENCY_UNITS_MS[unit]


def parse_wrk(output: str, command: str) -> WrkResult:
    def find(pattern: str) -> re.Match[str]:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            raise RuntimeError(f"wrk output has no match for {pattern!r}:\n{output}")
        return match

    p50 = find(rf"^\s+50%\s+{NUMBER_WITH_UNIT}\s*$")
    p99 = find(rf"^\s+99%\s+{NUMBER_WITH_UNIT}\s*$")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests_per_second=float(find(r"^Requests/sec:\s+([\d.]+)").group(1)),
        p50_ms=parse_latency_ms(p50.group(1), p50.group(2)),
        p99_ms=parse_latency_ms(p99.group(1), p99.group(2)),
        requests=int(find(r"^\s+(\d+) requests in").group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
        command=command,
    )


def run_wrk(url: str, duration: int, connections: int, threads: int) -> WrkResult:
    arguments = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        url,
    ]
    completed = subprocess.run(
        arguments, capture_output=True, text=True, check=True, timeout=duration + 30
    )
    result = parse_wrk(completed.stdout, " ".join(arguments))
    if result.non_2xx:
        raise RuntimeError(f"{result.non_2xx} responses were not 2xx: {url}")
    return result


def load(url: str, duration: int, connections: int, threads: int) -> WrkResult:
    """A short warm-up run (discarded), then the measured run."""
    run_wrk(url, WARM_UP_SECONDS, connections, threads)
    return run_wrk(url, duration, connections, threads)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def memory_of(pid: int) -> Memory:
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return Memory(rss_mib=round(fields["VmRSS"], 1), hwm_mib=round(fields["VmHWM"], 1))


@contextmanager
def serve(
    app: str, env: Mapping[str, str], probe_path: str, log_name: str, start_timeout: float
) -> Iterator[Server]:
    """Run `uvicorn <app>` on a free loopback port until the block ends.

    The server counts as started when `probe_path` answers 200; `started_in_s` is the time from
    launch until then (for the real app that includes loading the catalogue snapshot).
    """
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = BENCH_DIR / f"{log_name}.log"
    started = time.perf_counter()
    command = [sys.executable, "-m", "uvicorn", app, *UVICORN_OPTIONS, "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, "--host", "127.0.0.1"],
            cwd=PROJECT_ROOT,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_answering(process, base_url + probe_path, start_timeout, log_path)
            yield Server(process, base_url, round(time.perf_counter() - started, 2))
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_answering(
    process: subprocess.Popen[bytes], url: str, timeout: float, log_path: Path
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}; see {log_path}")
        try:
            if httpx.get(url, timeout=timeout).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"no 200 from {url} within {timeout:.0f} s; see {log_path}")


def project_command(command: str, database_url: str) -> None:
    """`python -m app <command>` against `database_url`, as an operator would run it."""
    subprocess.run(
        [sys.executable, "-m", "app", command],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        check=True,
        capture_output=True,
    )


def list_query(target_area: str) -> str:
    return f"{LIST_PATH}?safe_for=flexion_sensitive&target_area={target_area}"


def ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 3)


def write_json(name: str, document: dict[str, Any]) -> Path:
    path = BENCH_DIR / name
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    return path


def environment() -> dict[str, Any]:
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "uvicorn_options": " ".join(UVICORN_OPTIONS),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }


# --- default mode: the list endpoint against its ceilings -------------------------------------


def fresh_sqlite_catalogue() -> str:
    database = BENCH_DIR / "catalogue.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{database}"
    project_command("migrate", url)
    project_command("seed", url)
    return url


def run_ceilings(arguments: argparse.Namespace) -> int:
    database_url = fresh_sqlite_catalogue()
    path = list_query(arguments.target_area)
    body_file = BENCH_DIR / "fixed_body.json"
    env = {**os.environ, "DATABASE_URL": database_url, "BENCH_FIXED_BODY": str(body_file)}
    targets = [
        ("list", "app.main:app"),
        ("fastapi-ceiling", "bench.ceilings:fastapi_app"),
        ("bare-ceiling", "bench.ceilings:bare_app"),
    ]
    results: dict[str, WrkResult] = {}
    body = b""
    for name, app in targets:
        with serve(app, env, path, name, start_timeout=60) as server:
            answer = httpx.get(server.base_url + path).content
            if name == "list":
                body = answer
                body_file.write_bytes(body)
            elif answer != body:
                raise RuntimeError(f"{name} does not serve the bytes the list endpoint returned")
            print(f"loading {name} ({app}) ...", flush=True)
            results[name] = load(
                server.base_url + path,
                arguments.duration,
                arguments.connections,
                arguments.threads,
            )

    listed, ceiling, bare = results["list"], results["fastapi-ceiling"], results["bare-ceiling"]
    ratios = {
        "list_over_fastapi_rps": ratio(listed.requests_per_second, ceiling.requests_per_second),
        "list_over_bare_rps": ratio(listed.requests_per_second, bare.requests_per_second),
        "fastapi_over_bare_rps": ratio(ceiling.requests_per_second, bare.requests_per_second),
        "list_over_fastapi_p99": ratio(listed.p99_ms, ceiling.p99_ms),
    }
    verdict = {
        "rps": ratios["list_over_fastapi_rps"] >= TARGET_RPS_RATIO,
        "p99": ratios["list_over_fastapi_p99"] <= TARGET_P99_RATIO,
    }
    items = len(json.loads(body)["items"])

    print()
    print(f"GET {path}  ({items} items, {len(body)} bytes, identical for all three)")
    print(
        f"wrk -t{arguments.threads} -c{arguments.connections} -d{arguments.duration}s, "
        f"uvicorn {' '.join(UVICORN_OPTIONS)}"
    )
    print()
    print(f"{'target':<18}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, result in results.items():
        print(
            f"{name:<18}{result.requests_per_second:>12.1f}{result.p50_ms:>10.2f}"
            f"{result.p99_ms:>10.2f}{result.socket_errors:>8}"
        )
    print()
    print(f"list / fastapi-ceiling requests/s  {ratios['list_over_fastapi_rps']:.3f}")
    print(f"list / bare-ceiling requests/s     {ratios['list_over_bare_rps']:.3f}")
    print(f"fastapi / bare-ceiling requests/s  {ratios['fastapi_over_bare_rps']:.3f}")
    print(f"list p99 / fastapi-ceiling p99     {ratios['list_over_fastapi_p99']:.3f}")
    print()
    print(f"requests/s >= {TARGET_RPS_RATIO:.2f} x ceiling: {'PASS' if verdict['rps'] else 'FAIL'}")
    print(
        f"p99 <= {TARGET_P99_RATIO:.1f} x ceiling p99:      {'PASS' if verdict['p99'] else 'FAIL'}"
    )

    output = write_json(
        "catalogue.json",
        {
            **environment(),
            "path": path,
            "body_bytes": len(body),
            "items": items,
            "results": {name: asdict(result) for name, result in results.items()},
            "ratios": ratios,
            "targets": {"rps_ratio_min": TARGET_RPS_RATIO, "p99_ratio_max": TARGET_P99_RATIO},
            "pass": verdict,
        },
    )
    print(f"\nwrote {output.relative_to(PROJECT_ROOT)}")
    return 0 if all(verdict.values()) else 1


# --- scale mode: a synthetic catalogue on PostgreSQL ------------------------------------------


def suffixed(slugs: list[str], members: set[str], suffix: str) -> list[str]:
    """The links to `slugs` within one synthetic group: those in it, renamed with its suffix."""
    return [f"{slug}{suffix}" for slug in slugs if slug in members]


def synthetic_name(group: int) -> str:
    return f"(synthetic {group})"


def synthetic_documents(count: int, seed: int) -> Iterator[dict[str, Any]]:
    """`count` valid exercise documents varied from the seeded ones.

    The seeded exercises are copied in groups; group g gives every slug the suffix `-s<g>` and
    every name the suffix `(synthetic <g>)`, and its progression and variant links point inside
    the group. Each copy gets a random level, position and set of target areas and keeps its
    spinal motion and contraindications, so a flexion or extension exercise still carries its
    flag. Every document is validated as an `Exercise`.
    """
    bases = sorted(
        (exercise.model_dump(mode="json") for exercise in load_seed_directory(SEED_DIR).exercises),
        key=lambda document: str(document["slug"]),
    )
    rng = random.Random(seed)
    last_group, last_size = divmod(count - 1, len(bases))
    every_slug = {str(base["slug"]) for base in bases}
    last_group_slugs = {str(base["slug"]) for base in bases[: last_size + 1]}
    areas, levels, positions = list(TargetArea), list(Level), list(Position)
    for index in range(count):
        group, base = divmod(index, len(bases))
        document = bases[base]
        members = every_slug if group < last_group else last_group_slugs
        suffix = f"-s{group:06d}"
        raw = {
            **document,
            "slug": f"{document['slug']}{suffix}",
            "name": f"{document['name']} {synthetic_name(group)}",
            "level": rng.choice(levels).value,
            "position": rng.choice(positions).value,
            "target_areas": [area.value for area in rng.sample(areas, k=rng.randint(1, 3))],
            "progressions": {
                "easier": suffixed(document["progressions"]["easier"], members, suffix),
                "harder": suffixed(document["progressions"]["harder"], members, suffix),
            },
            "variants": suffixed(document["variants"], members, suffix),
            "status": "published",
        }
        yield Exercise.model_validate(raw).model_dump(mode="json")


def psycopg_conninfo(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def insert_catalogue(url: URL, count: int, seed: int) -> None:
    """Sources and `count` published exercises (and their progression links) at catalogue
    revision 1: written with COPY on PostgreSQL, with one executemany per table on SQLite."""
    revision = 1
    now = datetime.now(UTC)
    sources = [source.model_dump(mode="json") for source in load_seed_directory(SEED_DIR).sources]
    source_columns = list(SourceRow.model_fields)
    exercise_columns = [name for name in ExerciseRow.model_fields if name != "id"]
    link_columns = list(ExerciseProgressionRow.model_fields)

    def exercise_rows() -> Iterator[tuple[list[Any], list[list[Any]]]]:
        for document in synthetic_documents(count, seed):
            row = {
                "slug": document["slug"],
                "status": document["status"],
                "version": 1,
                "revision": revision,
                "name": document["name"],
                "document": orjson.dumps(document).decode(),
                "created_at": now,
                "updated_at": now,
            }
            links = [
                [document["slug"], direction, target]
                for direction, target in sorted(progression_links(document))
            ]
            yield [row.get(column) for column in exercise_columns], links

    tables = (
        (SourceRow.__tablename__, source_columns),
        (ExerciseRow.__tablename__, exercise_columns),
        (ExerciseProgressionRow.__tablename__, link_columns),
    )
    if url.get_backend_name() == "sqlite":
        insert_catalogue_sqlite(url, tables, sources, exercise_rows(), revision)
        return
    with psycopg.connect(psycopg_conninfo(url)) as connection, connection.cursor() as cursor:
        copies = [f"COPY {table} ({', '.join(columns)}) FROM STDIN" for table, columns in tables]
        with cursor.copy(copies[0]) as copy:
            for source in sources:
                copy.write_row([source.get(column) for column in source_columns])
        links: list[list[Any]] = []
        with cursor.copy(copies[1]) as copy:
            for row, row_links in exercise_rows():
                copy.write_row(row)
                links.extend(row_links)
        with cursor.copy(copies[2]) as copy:
            for link in links:
                copy.write_row(link)
        cursor.execute(
            f"UPDATE {CatalogueStateRow.__tablename__} SET revision = %s WHERE id = 1",
            (revision,),
        )
        for table, _ in tables[1:]:
            cursor.execute(f"ANALYZE {table}")


def sqlite_value(value: Any) -> Any:
    """A value as SQLAlchemy stores it on SQLite (a UTC timestamp without its zone)."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value


def insert_catalogue_sqlite(
    url: URL,
    tables: tuple[tuple[str, list[str]], ...],
    sources: list[dict[str, Any]],
    exercise_rows: Iterator[tuple[list[Any], list[list[Any]]]],
    revision: int,
) -> None:
    """insert_catalogue's rows into a migrated SQLite database, in one transaction."""

    def insert(table: str, columns: list[str]) -> str:
        marks = ", ".join("?" for _ in columns)
        return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"

    (source_table, source_columns), exercises, links = tables
    rows: list[list[Any]] = []
    link_rows: list[list[Any]] = []
    for row, row_links in exercise_rows:
        rows.append([sqlite_value(value) for value in row])
        link_rows.extend(row_links)
    connection = sqlite3.connect(str(url.database))
    try:
        with connection:
            connection.executemany(
                insert(source_table, source_columns),
                [[source.get(column) for column in source_columns] for source in sources],
            )
            connection.executemany(insert(*exercises), rows)
            connection.executemany(insert(*links), link_rows)
            connection.execute(
                f"UPDATE {CatalogueStateRow.__tablename__} SET revision = ? WHERE id = 1",
                (revision,),
            )
        connection.execute("ANALYZE")
    finally:
        connection.close()


@contextmanager
def scratch_database(admin_url: URL) -> Iterator[URL]:
    """A new, empty database next to `admin_url`'s, dropped (even if in use) when the block ends."""
    name = f"bench_scale_{os.getpid()}"
    with psycopg.connect(psycopg_conninfo(admin_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield admin_url.set(database=name)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def timings(elapsed_ms: list[float]) -> Timings:
    return Timings(
        len(elapsed_ms), round(statistics.median(elapsed_ms), 2), round(max(elapsed_ms), 2)
    )


def repeat_request(client: httpx.Client, path: str, times: int) -> tuple[Timings, int]:
    """Time `times` sequential requests; returns the timings and the items of the answer."""
    elapsed: list[float] = []
    items = 0
    for _ in range(times):
        started = time.perf_counter()
        response = client.get(path)
        elapsed.append((time.perf_counter() - started) * 1000)
        items = len(response.raise_for_status().json()["items"])
    return timings(elapsed), items


def follow_cursor(client: httpx.Client, path: str, pages: int) -> tuple[Timings, int]:
    """Time up to `pages` pages of `path` (which has a query string), each fetched with the
    previous page's next_cursor.

    Returns the timings and how many items the pages held together.
    """
    elapsed: list[float] = []
    items = 0
    page_path = path
    for _ in range(pages):
        started = time.perf_counter()
        response = client.get(page_path)
        elapsed.append((time.perf_counter() - started) * 1000)
        page = response.raise_for_status().json()
        items += len(page["items"])
        if page["next_cursor"] is None:
            break
        page_path = f"{path}&cursor={page['next_cursor']}"
    return timings(elapsed), items


def database_size(url: URL) -> str:
    with psycopg.connect(psycopg_conninfo(url)) as connection:
        row = connection.execute(
            "SELECT pg_size_pretty(pg_database_size(current_database()))"
        ).fetchone()
    assert row is not None
    return str(row[0])


def run_scale(arguments: argparse.Namespace) -> int:
    path = list_query(arguments.target_area)
    rare_path = f"{path}&{httpx.QueryParams(q=synthetic_name(arguments.scale // 54))}"
    with scratch_database(make_url(arguments.postgres)) as url:
        database_url = url.render_as_string(hide_password=False)
        project_command("migrate", database_url)
        print(
            f"inserting {arguments.scale} synthetic exercises into {url.database} ...", flush=True
        )
        started = time.perf_counter()
        insert_catalogue(url, arguments.scale, arguments.seed)
        insert_seconds = round(time.perf_counter() - started, 1)
        size = database_size(url)
        print(f"inserted in {insert_seconds} s ({size}); starting the app ...", flush=True)

        env = {**os.environ, "DATABASE_URL": database_url}
        with (
            serve("app.main:app", env, path, "scale", start_timeout=900) as server,
            httpx.Client(base_url=server.base_url, timeout=60) as client,
        ):
            first_page = client.get(path).json()
            if len(first_page["items"]) < 20 or first_page["next_cursor"] is None:
                raise RuntimeError(f"the app did not load the catalogue: {first_page}")
            memory_loaded = memory_of(server.process.pid)
            print("loading the list endpoint ...", flush=True)
            result = load(
                server.base_url + path, arguments.duration, arguments.connections, arguments.threads
            )
            memory_after = memory_of(server.process.pid)
            chain, chain_items = follow_cursor(client, path, arguments.pages)
            rare, rare_items = repeat_request(client, rare_path, 20)

    passed = result.p50_ms < SCALE_P50_TARGET_MS
    lines = [
        ("exercises", f"{arguments.scale} synthetic, PostgreSQL, one uvicorn worker"),
        ("insert (COPY)", f"{insert_seconds} s, database {size}"),
        ("start-up until first answer", f"{server.started_in_s} s (includes the snapshot load)"),
        ("wrk", result.command),
        ("requests/s", f"{result.requests_per_second:.1f}"),
        ("p50 / p99", f"{result.p50_ms:.2f} ms / {result.p99_ms:.2f} ms"),
        (f"p50 < {SCALE_P50_TARGET_MS:g} ms", "PASS" if passed else "FAIL"),
        (
            "cursor chain (sequential)",
            f"{chain.count} pages, {chain_items} items: median {chain.p50_ms} ms, "
            f"max {chain.max_ms} ms",
        ),
        (
            "rare filter (sequential)",
            f"{rare_path}: {rare_items} item(s), median {rare.p50_ms} ms, "
            f"max {rare.max_ms} ms over {rare.count} requests",
        ),
        (
            "memory after loading",
            f"VmRSS {memory_loaded.rss_mib} MiB, VmHWM {memory_loaded.hwm_mib} MiB",
        ),
        ("memory after wrk", f"VmRSS {memory_after.rss_mib} MiB, VmHWM {memory_after.hwm_mib} MiB"),
    ]
    print()
    for label, value in lines:
        print(f"{label:<32}{value}")

    output = write_json(
        "catalogue_scale.json",
        {
            **environment(),
            "path": path,
            "exercises": arguments.scale,
            "insert_seconds": insert_seconds,
            "database_size": size,
            "startup_seconds": server.started_in_s,
            "result": asdict(result),
            "p50_target_ms": SCALE_P50_TARGET_MS,
            "pass": passed,
            "cursor_chain": {**asdict(chain), "items": chain_items},
            "rare_filter": {"path": rare_path, "items": rare_items, **asdict(rare)},
            "memory_after_loading": asdict(memory_loaded),
            "memory_after_wrk": asdict(memory_after),
        },
    )
    print(f"\nwrote {output.relative_to(PROJECT_ROOT)}")
    return 0 if passed else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument(
        "--connections", type=int, help="wrk connections (default 32, or 4 with --scale)"
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--target-area",
        default="abdominals",
        help="target_area of the benchmarked query (default: the area with most matches)",
    )
    parser.add_argument(
        "--scale", type=int, metavar="N", help="run the scale benchmark with N exercises instead"
    )
    parser.add_argument(
        "--postgres", default=DEFAULT_POSTGRES, help="admin URL for --scale (a database is added)"
    )
    parser.add_argument("--pages", type=int, default=50, help="--scale: cursor pages to follow")
    parser.add_argument("--seed", type=int, default=1, help="--scale: random seed")
    return parser


def main() -> int:
    arguments = build_parser().parse_args()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    if arguments.scale is None:
        arguments.connections = arguments.connections or 32
        return run_ceilings(arguments)
    arguments.connections = arguments.connections or 4
    return run_scale(arguments)


if __name__ == "__main__":
    sys.exit(main())
