"""The catalogue at 1,000, 10,000 and 100,000 exercises: what one request or one edit costs as it
grows, with two real server processes (`python -m app serve`) on one database.

    .venv/bin/python bench/scale.py --sizes 1000 10000 100000 --sqlite-sizes 10000 \
        --startup-sizes 300000

For each size: a scratch database (PostgreSQL, or a SQLite file for `--sqlite-sizes`) gets the
synthetic catalogue (`insert_catalogue`), a writer and a reader process start on it, and the
table row is measured on a machine that is shared, so read the growth more than the absolute
figures. `--startup-sizes` measures only start-up and memory (one process, PostgreSQL), and the
table ends with those two extrapolated to 1,000,000 exercises from the largest sizes measured,
stated as an extrapolation. Writes var/bench/scale.json.
"""

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy.engine import URL, make_url
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.security import Role
from app.db.key_queries import create_key
from app.db.session import build_engine
from app.domain.fhir.common import computable_name
from bench.catalogue import (
    BENCH_DIR,
    PROJECT_ROOT,
    environment,
    free_port,
    insert_catalogue,
    memory_of,
    project_command,
    scratch_database,
    synthetic_name,
    write_json,
)

PROFILE = {
    "sensitivity": "flexion_sensitive",
    "target_areas": ["lower_back", "hamstrings"],
    "available_equipment": ["mat"],
    "minutes": 20,
}
LIST = "/v1/exercises?safe_for=flexion_sensitive&target_area=abdominals"
EDITS = 50
ROUTINES = 20
"""Routine POSTs timed after the first, each with its own seed (so none is a memoised plan)."""


@dataclass
class Process:
    popen: subprocess.Popen[bytes]
    base: str
    ready_s: float


@contextmanager
def serve(database_url: str, name: str, timeout: float = 900) -> Iterator[Process]:
    """`python -m app serve` on a free port; ready when /readyz answers 200."""
    port = free_port()
    log = (BENCH_DIR / f"scale-{name}.log").open("wb")
    env = {"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
    started = time.perf_counter()
    popen = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            if popen.poll() is not None:
                raise RuntimeError(f"{name} exited; see var/bench/scale-{name}.log")
            if time.perf_counter() - started > timeout:
                raise RuntimeError(f"{name} not ready in {timeout} s")
            try:
                if httpx.get(base + "/readyz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        yield Process(popen, base, round(time.perf_counter() - started, 1))
    finally:
        popen.terminate()
        try:
            popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            popen.kill()
        log.close()


def cpu_seconds(pid: int) -> float:
    """The process's user and system CPU time so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(*pids: int, timeout: float = 300) -> float:
    """Wait until the processes are idle (under a tenth of a CPU each over a second): a
    process that became ready still builds its text and routine indexes in the background, and
    what it is measured doing meanwhile would be that work's. Seconds waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        before = [cpu_seconds(pid) for pid in pids]
        time.sleep(1)
        if all(cpu_seconds(pid) - was < 0.1 for pid, was in zip(pids, before, strict=True)):
            break
    return round(time.perf_counter() - started, 1)


def timed(call: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return (time.perf_counter() - started) * 1000, result


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1)


def editor_key(database_url: str) -> str:
    engine = build_engine(database_url)
    with Session(engine) as session, session.begin():
        key = create_key(session, "bench-scale", Role.editor)
    engine.dispose()
    return key


def read_list(base: str, ready: Any, stop: Any, times: Any) -> None:
    """GET the list in a loop until `stop` is set, each time into `times` (ms)."""
    measured = []
    with httpx.Client(base_url=base, timeout=30) as client:
        client.get(LIST).raise_for_status()
        ready.set()
        while not stop.is_set():
            elapsed, _ = timed(lambda: client.get(LIST).raise_for_status())
            measured.append(elapsed)
            time.sleep(0.005)
    times.send(measured)


class Reads:
    """GET the list in a loop from a process of its own (so the edits' client never delays
    it), timing each, until the block ends."""

    def __init__(self, base: str) -> None:
        context = multiprocessing.get_context("spawn")
        self._ready, self._stop = context.Event(), context.Event()
        self._received, sent = context.Pipe(duplex=False)
        self._process = context.Process(
            target=read_list, args=(base, self._ready, self._stop, sent), daemon=True
        )
        self.times: list[float] = []

    def __enter__(self) -> "Reads":
        self._process.start()
        self._ready.wait(60)
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self.times = self._received.recv()
        self._process.join()


def edit(client: httpx.Client, slug: str, name: str, key: str) -> float:
    tag = client.get(f"/v1/exercises/{slug}").raise_for_status().headers["etag"]
    headers = {"Authorization": f"Bearer {key}", "If-Match": tag}
    elapsed, response = timed(
        lambda: client.patch(f"/v1/exercises/{slug}", json={"name": name}, headers=headers)
    )
    response.raise_for_status()
    return elapsed


def visible_after(reader: httpx.Client, slug: str, name: str, since: float) -> float:
    while reader.get(f"/v1/exercises/{slug}").json()["name"] != name:
        if time.perf_counter() - since > 60:
            return float("inf")
        time.sleep(0.01)
    return (time.perf_counter() - since) * 1000


def probe_health(base: str, started: Any, stop: Any, worst: Any) -> None:
    """Ask /healthz every 10 ms until `stop` is set; the worst latency into `worst` (ms). Runs in
    a process of its own, so the download's client never delays it."""
    slowest = 0.0
    with httpx.Client(base_url=base, timeout=60) as client:
        client.get("/healthz")
        started.set()
        while not stop.is_set():
            elapsed, _ = timed(lambda: client.get("/healthz"))
            slowest = max(slowest, elapsed)
            time.sleep(0.01)
    worst.value = slowest


def download_with_health(base: str, path: str = "/v1/catalogue") -> tuple[float, float, int]:
    """The whole download (gzip, as a client asks for it, read raw and dropped as it comes),
    timed, while another process asks /healthz every 10 ms: its worst latency."""
    context = multiprocessing.get_context("spawn")
    ready, stop, worst = context.Event(), context.Event(), context.Value("d", 0.0)
    prober = context.Process(target=probe_health, args=(base, ready, stop, worst), daemon=True)
    prober.start()
    ready.wait(60)
    received = 0
    with httpx.Client(base_url=base, timeout=600) as client:
        started = time.perf_counter()
        with client.stream("GET", path, headers={"Accept-Encoding": "gzip"}) as response:
            response.raise_for_status()
            for chunk in response.iter_raw():
                received += len(chunk)
        elapsed = (time.perf_counter() - started) * 1000
    stop.set()
    prober.join()
    return elapsed, worst.value, received


def median_of(client: httpx.Client, path: str, times: int = 20, **kwargs: Any) -> tuple[float, Any]:
    elapsed: list[float] = []
    response = None
    for _ in range(times):
        took, response = timed(lambda: client.get(path, **kwargs).raise_for_status())
        elapsed.append(took)
    return round(statistics.median(elapsed), 1), response


@contextmanager
def scratch_catalogue(size: int, admin_url: str | None) -> Iterator[str]:
    """A migrated scratch database holding `size` synthetic exercises: on PostgreSQL next to
    `admin_url`'s, or a SQLite file under var/bench when `admin_url` is None."""
    if admin_url is None:
        path = BENCH_DIR / f"scale-{size}.sqlite"
        for stale in BENCH_DIR.glob(f"{path.name}*"):
            stale.unlink()
        url = make_url(f"sqlite:///{path}")
        try:
            yield fill(url, size)
        finally:
            for made in BENCH_DIR.glob(f"{path.name}*"):
                made.unlink()
        return
    with scratch_database(make_url(admin_url)) as url:
        yield fill(url, size)


def fill(url: URL, size: int) -> str:
    database_url = url.render_as_string(hide_password=False)
    project_command("migrate", database_url)
    insert_catalogue(url, size, seed=1)
    return database_url


def measure_startup(size: int, admin_url: str) -> dict[str, Any]:
    """Start-up to ready and memory only, one process: for sizes too large to edit at length."""
    with scratch_catalogue(size, admin_url) as database_url, serve(database_url, "alone") as alone:
        return {
            "exercises": size,
            "store": "postgresql",
            "ready_s": alone.ready_s,
            "rss_mib_ready": memory_of(alone.popen.pid).rss_mib,
        }


def measure(size: int, admin_url: str | None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "exercises": size,
        "store": "sqlite" if admin_url is None else "postgresql",
    }
    with scratch_catalogue(size, admin_url) as database_url:
        key = editor_key(database_url)
        with serve(database_url, "writer") as writer, serve(database_url, "reader") as reader:
            row["ready_s"] = writer.ready_s
            row["rss_mib_ready"] = memory_of(writer.popen.pid).rss_mib
            row["settled_after_ready_s"] = settle(writer.popen.pid, reader.popen.pid)
            client = httpx.Client(base_url=writer.base, timeout=600)
            other = httpx.Client(base_url=reader.base, timeout=600)
            slugs = [item["slug"] for item in client.get("/v1/exercises?limit=100").json()["items"]]
            took, response = timed(
                lambda: client.post("/v1/routines", json=PROFILE).raise_for_status()
            )
            row["routine_post_ms"] = round(took, 1)
            row["routine_body_kb"] = round(len(response.content) / 1024, 1)
            posts, bodies = [], []
            for seed in range(1, ROUTINES + 1):
                took, response = timed(
                    lambda seed=seed: client.post(
                        "/v1/routines", json={**PROFILE, "seed": seed}
                    ).raise_for_status()
                )
                posts.append(took)
                bodies.append(len(response.content))
            row["routine_post_p50_ms"] = round(statistics.median(posts), 1)
            row["routine_body_max_kb"] = round(max(bodies) / 1024, 1)
            patches, visible = [], []
            for number, slug in enumerate(slugs[:5]):
                name = f"Edited {number} {slug}"
                started = time.perf_counter()
                patches.append(edit(client, slug, name, key))
                visible.append(visible_after(other, slug, name, started))
            row["patch_ms_median"] = round(statistics.median(patches), 1)
            row["visible_ms_median"] = round(statistics.median(visible), 1)
            with Reads(writer.base) as idle:
                time.sleep(3)
            with Reads(writer.base) as during:
                for number in range(EDITS):
                    slug = slugs[10 + number % 80]
                    edit(client, slug, f"Burst {number} {slug}", key)
            row["reads_p99_idle_ms"] = p99(idle.times)
            row["reads_p99_edits_ms"] = p99(during.times)
            row["reads_p99_ratio"] = round(row["reads_p99_edits_ms"] / row["reads_p99_idle_ms"], 2)
            took, health, size_bytes = download_with_health(writer.base)
            row["catalogue_download_ms"] = round(took)
            row["catalogue_gzip_mb"] = round(size_bytes / 1e6, 1)
            row["healthz_max_during_download_ms"] = round(health, 1)
            took, _ = timed(lambda: client.get("/v1/changes?since=0").raise_for_status())
            row["changes_first_page_ms"] = round(took, 1)
            time.sleep(5)  # the text index is built beside the first snapshot
            rare = httpx.QueryParams(q=synthetic_name(size // 54))
            row["rare_q_ms"], found = median_of(client, f"/v1/exercises?{rare}")
            row["rare_q_items"] = len(found.json()["items"])
            group = f"{size // 54:06d}"
            prefix = computable_name(f"cat-stretch-s{group}")[:-1]
            row["fhir_name_ms"], found = median_of(
                client,
                f"/fhir/r4/ActivityDefinition?name={prefix}",
                headers={"Accept": "application/fhir+json"},
            )
            row["fhir_name_total"] = found.json()["total"]
            row["rss_mib_end"] = memory_of(writer.popen.pid).rss_mib
            client.close()
            other.close()
    return row


COLUMNS: list[tuple[str, Callable[[dict[str, Any]], object]]] = [
    ("routine POST ms / body KB", lambda r: f"{r['routine_post_ms']} / {r['routine_body_kb']}"),
    (
        f"routine POST p50 ms / largest body KB ({ROUTINES} seeds)",
        lambda r: f"{r['routine_post_p50_ms']} / {r['routine_body_max_kb']}",
    ),
    ("PATCH ms (median of 5)", lambda r: r["patch_ms_median"]),
    ("visible in the other process ms", lambda r: r["visible_ms_median"]),
    (
        "list p99 ms, idle / during 50 edits (ratio)",
        lambda r: f"{r['reads_p99_idle_ms']} / {r['reads_p99_edits_ms']} ({r['reads_p99_ratio']}x)",
    ),
    (
        "/v1/catalogue ms (MB gzip), /healthz max ms meanwhile",
        lambda r: (
            f"{r['catalogue_download_ms']} ({r['catalogue_gzip_mb']}), "
            f"{r['healthz_max_during_download_ms']}"
        ),
    ),
    ("/v1/changes?since=0 first page ms", lambda r: r["changes_first_page_ms"]),
    ("rare q ms (items)", lambda r: f"{r['rare_q_ms']} ({r['rare_q_items']})"),
    ("FHIR name= ms (total)", lambda r: f"{r['fhir_name_ms']} ({r['fhir_name_total']})"),
    ("RSS MiB, ready / end", lambda r: f"{r['rss_mib_ready']} / {r['rss_mib_end']}"),
    ("start-up to ready s", lambda r: r["ready_s"]),
    (
        "background indexes built, s after ready",
        lambda r: r.get("settled_after_ready_s", "-"),
    ),
]


def table(rows: list[dict[str, Any]], startups: list[dict[str, Any]]) -> str:
    heads = [f"{r['exercises']:,}" + (" SQLite" if r["store"] == "sqlite" else "") for r in rows]
    heads += [f"{r['exercises']:,} (start-up only)" for r in startups]
    lines = [
        "| what | " + " | ".join(heads) + " |",
        "| --- | " + " | ".join("---:" for _ in heads) + " |",
    ]
    for label, cell in COLUMNS:
        cells = [str(cell(r)) for r in rows]
        if label in STARTUP_COLUMNS:
            cells += [str(cell({**r, "rss_mib_end": "-"})) for r in startups]
        else:
            cells += ["-" for _ in startups]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    measured = [*rows, *startups]
    postgresql = [r for r in measured if r["store"] == "postgresql"]
    if postgresql:
        smallest = min(postgresql, key=lambda r: r["exercises"])
        cells = [kb_per_exercise(smallest, r) if r in postgresql else "-" for r in measured]
        lines.append(
            f"| RSS KB per exercise at ready, over {smallest['exercises']:,} on PostgreSQL | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines)


def kb_per_exercise(smallest: dict[str, Any], row: dict[str, Any]) -> str:
    """What each exercise beyond the smallest size adds to a worker's memory at ready."""
    more = row["exercises"] - smallest["exercises"]
    if more <= 0:
        return "-"
    return f"{(row['rss_mib_ready'] - smallest['rss_mib_ready']) * 1024 / more:.2f}"


STARTUP_COLUMNS = ("RSS MiB, ready / end", "start-up to ready s")
EXTRAPOLATED_TO = 1_000_000


def extrapolation(measured: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Start-up and RSS at ready at 1,000,000 exercises, on the line through the two largest
    PostgreSQL sizes measured: an extrapolation, not a measurement."""
    points = sorted(
        (r for r in measured if r["store"] == "postgresql"), key=lambda r: r["exercises"]
    )[-2:]
    if len(points) < 2 or points[0]["exercises"] == points[1]["exercises"]:
        return None
    small, large = points

    def at(field: str) -> float:
        low, high = float(small[field]), float(large[field])
        slope = (high - low) / (large["exercises"] - small["exercises"])
        return float(round(high + slope * (EXTRAPOLATED_TO - large["exercises"]), 1))

    return {
        "exercises": EXTRAPOLATED_TO,
        "from": [small["exercises"], large["exercises"]],
        "ready_s": at("ready_s"),
        "rss_mib_ready": at("rss_mib_ready"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000, 100000])
    parser.add_argument("--sqlite-sizes", type=int, nargs="*", default=[10000])
    parser.add_argument("--startup-sizes", type=int, nargs="*", default=[])
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    arguments = parser.parse_args()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    load = [os.getloadavg()]
    rows: list[dict[str, Any]] = []
    plan: list[tuple[int, str | None]] = [(size, arguments.postgres) for size in arguments.sizes]
    plan += [(size, None) for size in arguments.sqlite_sizes]
    for size, admin_url in plan:
        print(
            f"measuring {size} exercises ({'PostgreSQL' if admin_url else 'SQLite'}) ...",
            flush=True,
        )
        rows.append(measure(size, admin_url))
        load.append(os.getloadavg())
        print(orjson.dumps(rows[-1]).decode(), flush=True)
    startups = []
    for size in arguments.startup_sizes:
        print(f"start-up and memory at {size} exercises (PostgreSQL) ...", flush=True)
        startups.append(measure_startup(size, arguments.postgres))
        load.append(os.getloadavg())
        print(orjson.dumps(startups[-1]).decode(), flush=True)
    print(table(rows, startups))
    extrapolated = extrapolation(rows + startups)
    if extrapolated is not None:
        print(
            f"\nExtrapolated (not measured) to {EXTRAPOLATED_TO:,} exercises on the line through "
            f"{extrapolated['from'][0]:,} and {extrapolated['from'][1]:,}: start-up to ready "
            f"{extrapolated['ready_s']} s, RSS at ready {extrapolated['rss_mib_ready']} MiB."
        )
    print(f"load average (1, 5, 15 min) at the start and after each size: {load}")
    write_json(
        "scale.json",
        {
            **environment(),
            "rows": rows,
            "startup_only": startups,
            "extrapolated": extrapolated,
            "load_average": load,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
