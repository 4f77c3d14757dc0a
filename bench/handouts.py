"""Benchmark of the routine handout, `GET /v1/routines/{id}/handout` (SQLite).

One uvicorn worker serves the real app on 127.0.0.1. The script measures:

- the first PDF render: one request at a time, each for a 45-minute routine never rendered before
  (`--first-renders` distinct routines, every one with aerobic work, so six A4 pages), p50 and p99;
- the first HTML render, the same way;
- wrk loads, round-robin over the routines bench/routines.py uses, every handout already rendered:
  the cached HTML handout, the cached PDF, and `GET /v1/routines/{id}` itself for comparison.

Targets: a cached HTML handout (and a cached PDF) at least 80% of the routine GET's requests/s;
the first PDF render under 1 s at p99. Results are printed and written to var/bench/handouts.json.
"""

import argparse
import io
import os
import statistics
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
import orjson
import pypdf

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from bench.catalogue import (  # noqa: E402
    BENCH_DIR,
    UVICORN_OPTIONS,
    WrkResult,
    environment,
    project_command,
    ratio,
    serve,
    write_json,
)
from bench.routines import (  # noqa: E402
    ROUTINES_PATH,
    UNLIMITED,
    create_each,
    fresh_database,
    load,
    request_bodies,
    write_lua_script,
)

TARGET_CACHED_RPS_RATIO = 0.80
TARGET_FIRST_PDF_P99_MS = 1000.0
LONG_PROFILE: dict[str, Any] = {
    "sensitivity": "flexion_sensitive",
    "level": "advanced",
    "minutes": 45,
    "phase": "recovering",
    "include_aerobic": True,
    "helper_available": True,
    "available_equipment": ["mat", "wall", "bed", "strap", "bicycle"],
    "target_areas": ["lower_back", "hamstrings"],
}


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: with 40 samples p99 is the slowest one."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))
    return round(ordered[int(rank) - 1], 1)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def first_renders(client: httpx.Client, paths: list[str], pid: int) -> dict[str, float]:
    """Sequential requests, each for a handout not rendered before; milliseconds, and the
    server's CPU time per request (what the wall time would be on an idle machine)."""
    elapsed = []
    cpu_before = cpu_seconds(pid)
    for path in paths:
        started = time.perf_counter()
        response = client.get(path)
        elapsed.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}: {response.text}")
    cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000 / len(paths)
    return {
        "count": len(elapsed),
        "server_cpu_ms": round(cpu_ms, 1),
        "p50_ms": percentile(elapsed, 0.50),
        "p99_ms": percentile(elapsed, 0.99),
        "mean_ms": round(statistics.mean(elapsed), 1),
        "max_ms": round(max(elapsed), 1),
    }


def long_routines(client: httpx.Client, count: int) -> list[str]:
    """`count` distinct 45-minute routines (a seed each); their ids."""
    bodies = [orjson.dumps({**LONG_PROFILE, "seed": seed}) for seed in range(count)]
    return [orjson.loads(body)["id"] for body in create_each(client, bodies)]


def page_count(pdf: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)


def main() -> int:
    arguments = build_parser().parse_args()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    database_url = fresh_database("handouts.db")
    project_command("migrate", database_url)
    project_command("seed", database_url)
    env = {**os.environ, "DATABASE_URL": database_url, "RATE_LIMIT_ROUTINES": UNLIMITED}
    results: dict[str, WrkResult] = {}
    with serve("app.main:app", env, "/readyz", "handouts", start_timeout=60) as server:
        pid = server.process.pid
        with httpx.Client(base_url=server.base_url, timeout=60) as client:
            # One render first, so start-up costs (fonts, imports) are not counted as a render.
            warm = long_routines(client, 1)[0]
            client.get(f"{ROUTINES_PATH}/{warm}/handout?format=pdf").raise_for_status()
            ids = long_routines(client, arguments.first_renders)
            print(f"first PDF render of {len(ids)} 45-minute routines ...", flush=True)
            first_pdf = first_renders(
                client, [f"{ROUTINES_PATH}/{i}/handout?format=pdf" for i in ids], pid
            )
            sample_pdf = client.get(f"{ROUTINES_PATH}/{ids[0]}/handout?format=pdf").content
            ids = long_routines(client, arguments.first_renders)
            print(f"first HTML render of {len(ids)} 45-minute routines ...", flush=True)
            first_html = first_renders(
                client, [f"{ROUTINES_PATH}/{i}/handout?format=html" for i in ids], pid
            )
            routines = create_each(client, request_bodies())
            paths = [f"{ROUTINES_PATH}/{orjson.loads(r)['id']}" for r in routines]
            for path in paths:
                for variant in ("html", "pdf"):
                    client.get(f"{path}/handout?format={variant}").raise_for_status()
        loads = {
            "routine": paths,
            "handout-html": [f"{p}/handout?format=html" for p in paths],
            "handout-pdf": [f"{p}/handout?format=pdf" for p in paths],
        }
        for name, load_paths in loads.items():
            script = write_lua_script(f"{name}.lua", "GET", [(p, None) for p in load_paths])
            print(f"loading {name} (cached) ...", flush=True)
            results[name] = load(server.base_url, script, arguments)
    return report(arguments, first_pdf, first_html, page_count(sample_pdf), results)


def report(
    arguments: argparse.Namespace,
    first_pdf: dict[str, float],
    first_html: dict[str, float],
    pages: int,
    results: dict[str, WrkResult],
) -> int:
    routine = results["routine"]
    ratios = {
        "html_over_routine_rps": ratio(
            results["handout-html"].requests_per_second, routine.requests_per_second
        ),
        "pdf_over_routine_rps": ratio(
            results["handout-pdf"].requests_per_second, routine.requests_per_second
        ),
    }
    verdict = {
        "cached_html_rps": ratios["html_over_routine_rps"] >= TARGET_CACHED_RPS_RATIO,
        "cached_pdf_rps": ratios["pdf_over_routine_rps"] >= TARGET_CACHED_RPS_RATIO,
        "first_pdf_p99": first_pdf["p99_ms"] < TARGET_FIRST_PDF_P99_MS,
    }

    def passed(key: str) -> str:
        return "PASS" if verdict[key] else "FAIL"

    print()
    print(f"first renders, one at a time, 45-minute routines ({pages}-page A4 PDF):")
    print(f"{'':<14}{'count':>6}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}{'CPU ms':>10}")
    for name, timing in (("first PDF", first_pdf), ("first HTML", first_html)):
        print(
            f"{name:<14}{timing['count']:>6}{timing['p50_ms']:>10.1f}"
            f"{timing['p99_ms']:>10.1f}{timing['max_ms']:>10.1f}{timing['server_cpu_ms']:>10.1f}"
        )
    print(f"(CPU ms: the server's CPU time per render; load average {os.getloadavg()[0]:.1f})")
    print()
    print(
        f"cached, wrk -t{arguments.threads} -c{arguments.connections} -d{arguments.duration}s, "
        f"uvicorn {' '.join(UVICORN_OPTIONS)}"
    )
    print(f"{'target':<14}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, result in results.items():
        print(
            f"{name:<14}{result.requests_per_second:>12.1f}{result.p50_ms:>10.2f}"
            f"{result.p99_ms:>10.2f}{result.socket_errors:>8}"
        )
    print()
    print(
        f"cached HTML / routine GET requests/s  {ratios['html_over_routine_rps']:.3f}  "
        f"(>= {TARGET_CACHED_RPS_RATIO:.2f})  {passed('cached_html_rps')}"
    )
    print(
        f"cached PDF / routine GET requests/s   {ratios['pdf_over_routine_rps']:.3f}  "
        f"(>= {TARGET_CACHED_RPS_RATIO:.2f})  {passed('cached_pdf_rps')}"
    )
    print(
        f"first PDF render p99                  {first_pdf['p99_ms']:.0f} ms  "
        f"(< {TARGET_FIRST_PDF_P99_MS:.0f})  {passed('first_pdf_p99')}"
    )
    output = write_json(
        "handouts.json",
        {
            **environment(),
            "pdf_pages": pages,
            "load_average": os.getloadavg(),
            "first_pdf": first_pdf,
            "first_html": first_html,
            "results": {name: asdict(result) for name, result in results.items()},
            "ratios": ratios,
            "pass": verdict,
        },
    )
    print(f"\nwrote {output.relative_to(PROJECT_ROOT)}")
    return 0 if all(verdict.values()) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--first-renders", type=int, default=40, help="distinct routines for the first renders"
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
