"""One anonymous client floods `POST /v1/routines`; how fast does another client's list answer?

For each case the real app (`app.main:app`, one uvicorn worker, the options of bench/catalogue.py)
is started on a fresh seeded SQLite file under var/bench/. A reader loads `GET /v1/exercises` with
wrk; in the flood cases a second wrk POSTs the routine profiles of bench/routines.py round-robin
from the start of the reader's run until after its end. The cases:

- `alone`: the reader alone, the service's default limits;
- `flood, no limits`: RATE_LIMIT_ROUTINES raised out of reach, as before the limits existed;
- `flood, limits`: the default RATE_LIMIT_ROUTINES (60/minute per client), so after its first
  60 routines the flood gets 429s, which cost far less than a routine, each after
  RATE_LIMIT_REFUSAL_DELAY_SECONDS (set it to 0 in this script's environment to measure
  without the pause).

Prints the reader's requests/s, p50 and p99 and what the flood got (requests/s, share answered
429), and writes them to var/bench/flood.json. See bench/README.md.
"""

import argparse
import os
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from bench.catalogue import (  # noqa: E402
    BENCH_DIR,
    LIST_PATH,
    WARM_UP_SECONDS,
    WrkResult,
    environment,
    project_command,
    run_wrk,
    serve,
    write_json,
)
from bench.routines import (  # noqa: E402
    ROUTINES_PATH,
    UNLIMITED,
    fresh_database,
    request_bodies,
    write_lua_script,
)

CASES: list[tuple[str, dict[str, str] | None]] = [
    ("alone", None),
    ("flood, no limits", {"RATE_LIMIT_ROUTINES": UNLIMITED}),
    ("flood, limits", {}),
]
"""(name, the flood's environment for the server, or None for no flood)."""
FLOOD_HEAD_START_SECONDS = 1


def start_flood(base_url: str, script: Path, seconds: int, connections: int) -> Any:
    arguments = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "-s",
        str(script.relative_to(PROJECT_ROOT)),
        base_url,
    ]
    process = subprocess.Popen(
        arguments, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    return process, " ".join(arguments)


def flood_result(process: Any, command: str, seconds: int) -> dict[str, Any]:
    output, _ = process.communicate(timeout=seconds + 30)
    # wrk prints latency percentiles only with --latency; the flood's are of no interest.
    requests = int(output.split(" requests in")[0].split()[-1])
    non_2xx = 0
    for line in output.splitlines():
        if line.strip().startswith("Non-2xx or 3xx responses:"):
            non_2xx = int(line.split(":")[1])
    rate = float(output.split("Requests/sec:")[1].split()[0])
    return {
        "requests_per_second": rate,
        "requests": requests,
        "refused_share": round(non_2xx / requests, 3) if requests else 0.0,
        "command": command,
    }


def run_case(
    name: str, flood_env: dict[str, str] | None, script: Path, arguments: argparse.Namespace
) -> dict[str, Any]:
    database_url = fresh_database("flood.db")
    project_command("migrate", database_url)
    project_command("seed", database_url)
    env = {**os.environ, "DATABASE_URL": database_url, **(flood_env or {})}
    with serve("app.main:app", env, "/readyz", "flood", start_timeout=60) as server:
        reader_url = server.base_url + LIST_PATH
        run_wrk(reader_url, WARM_UP_SECONDS, arguments.reader_connections, 1)
        flood = None
        if flood_env is not None:
            seconds = arguments.duration + 2 * FLOOD_HEAD_START_SECONDS
            process, command = start_flood(
                server.base_url, script, seconds, arguments.flood_connections
            )
            time.sleep(FLOOD_HEAD_START_SECONDS)
        reader: WrkResult = run_wrk(reader_url, arguments.duration, arguments.reader_connections, 1)
        if flood_env is not None:
            flood = flood_result(process, command, seconds)
    print(
        f"{name:<18} reader {reader.requests_per_second:>9,.0f} req/s  p50 {reader.p50_ms:7.2f} ms"
        f"  p99 {reader.p99_ms:7.2f} ms"
        + (
            f"   flood {flood['requests_per_second']:>7,.0f} req/s, "
            f"{flood['refused_share']:.1%} answered 429"
            if flood
            else ""
        ),
        flush=True,
    )
    return {"case": name, "reader": asdict(reader), "flood": flood}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="reader's seconds per case")
    parser.add_argument("--reader-connections", type=int, default=4)
    parser.add_argument("--flood-connections", type=int, default=32)
    return parser


def main() -> int:
    arguments = build_parser().parse_args()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    script = write_lua_script(
        "flood_post.lua", "POST", [(ROUTINES_PATH, body) for body in request_bodies()]
    )
    results = [run_case(name, env, script, arguments) for name, env in CASES]
    path = write_json(
        "flood.json",
        {
            **environment(),
            "reader": f"wrk -t1 -c{arguments.reader_connections} -d{arguments.duration}s "
            f"--latency {LIST_PATH}",
            "cases": results,
        },
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
