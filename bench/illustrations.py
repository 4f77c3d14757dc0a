"""Benchmark of illustrations: a cached picture GET beside the exercise GET it illustrates.

One real app (SQLite, the seeded catalogue, one uvicorn worker) serves three loads, each over
every published exercise in turn:

- `GET /v1/exercises/{slug}` (the exercise's ready JSON, the ceiling);
- `GET` of each exercise's first frame as SVG (`svg_url`, carrying the version: drawn once per
  exercise version, then served from the entry);
- the same frame as PNG (`png_url`: rasterised once, then served from the process's cache).

Every URL is fetched once before the loads, so the pictures are cached as they would be after the
first request. Beside requests/s, the server's CPU time per request is measured (a busy machine
moves it less than requests/s). wrk loads each in turn, twice, alternating, so drift on the
shared machine hits all alike; the figure per load is the mean of its two runs. Target: each
cached picture GET serves at least 80% of the exercise GET's requests/s in the same run. Results
are printed and written to var/bench/illustrations.json. See bench/README.md.
"""

import os
import sys
from dataclasses import asdict
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from bench import fhir  # noqa: E402
from bench.catalogue import (  # noqa: E402
    BENCH_DIR,
    UVICORN_OPTIONS,
    WrkResult,
    environment,
    fresh_sqlite_catalogue,
    ratio,
    serve,
    write_json,
)
from bench.conditional import build_parser, expect, write_lua_script  # noqa: E402
from bench.routines import load_with_cpu  # noqa: E402

LIST_PATH = "/v1/exercises"
ROUNDS = 2
TARGET_RPS_RATIO = 0.80
"""A cached illustration GET serves at least this share of the exercise GET's requests/s."""


def picture_paths(client: httpx.Client) -> dict[str, list[str]]:
    """Each load's paths, each fetched once (so every picture is drawn and cached) and checked."""
    items = expect(client.get(LIST_PATH, params={"limit": 100}), 200).json()["items"]
    paths: dict[str, list[str]] = {"exercise": [], "svg": [], "png": []}
    for item in items:
        first = item["illustrations"][0]
        paths["exercise"].append(f"{LIST_PATH}/{item['slug']}")
        paths["svg"].append(first["svg_url"])
        paths["png"].append(first["png_url"])
    for name, load_paths in paths.items():
        for path in load_paths:
            response = expect(client.get(path), 200)
            if name != "exercise" and "immutable" not in response.headers["cache-control"]:
                raise RuntimeError(f"{path} is not served as immutable")
    return paths


def main() -> int:
    parser = build_parser()
    parser.description = __doc__
    arguments = parser.parse_args()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    database_url = fresh_sqlite_catalogue()
    env = {**os.environ, "DATABASE_URL": database_url}
    with serve("app.main:app", env, LIST_PATH, "illustrations", start_timeout=60) as server:
        with httpx.Client(base_url=server.base_url) as client:
            paths = picture_paths(client)
            sizes = {
                name: sum(len(client.get(path).content) for path in load_paths) // len(load_paths)
                for name, load_paths in paths.items()
            }
        scripts = {
            name: write_lua_script(f"illustrations_{name}.lua", [(path, {}) for path in load_paths])
            for name, load_paths in paths.items()
        }
        runs: dict[str, list[WrkResult]] = {name: [] for name in scripts}
        cpu: dict[str, list[float]] = {name: [] for name in scripts}
        for round_number in range(ROUNDS):
            for name, script in scripts.items():
                print(f"round {round_number + 1}: loading {name} ...", flush=True)
                result, spent = load_with_cpu(server, script, arguments)
                runs[name].append(result)
                cpu[name].append(spent)
    figures = {name: fhir.mean(results) for name, results in runs.items()}
    cpu_us = {name: sum(values) / len(values) for name, values in cpu.items()}
    cpu_ratios = {name: ratio(cpu_us["exercise"], cpu_us[name]) for name in ("svg", "png")}
    ceiling = figures["exercise"]["requests_per_second"]
    ratios = {name: ratio(figures[name]["requests_per_second"], ceiling) for name in ("svg", "png")}
    verdict = {name: value >= TARGET_RPS_RATIO for name, value in ratios.items()}
    print()
    print(
        f"{len(paths['exercise'])} exercises in turn: the exercise, its first frame as SVG and "
        f"as PNG; mean body bytes {sizes}"
    )
    print(
        f"wrk -t{arguments.threads} -c{arguments.connections} -d{arguments.duration}s, "
        f"{ROUNDS} alternating rounds, uvicorn {' '.join(UVICORN_OPTIONS)}"
    )
    print()
    print(f"{'load':<10}{'requests/s':>12}{'p50 ms':>9}{'p99 ms':>9}{'CPU us/req':>12}")
    for name, figure in figures.items():
        print(
            f"{name:<10}{figure['requests_per_second']:>12.1f}{figure['p50_ms']:>9.2f}"
            f"{figure['p99_ms']:>9.2f}{cpu_us[name]:>12.0f}"
        )
    print()
    for name, value in ratios.items():
        print(
            f"{name} / exercise requests/s  {value:.3f}  (>= {TARGET_RPS_RATIO:.2f})  "
            f"{'PASS' if verdict[name] else 'FAIL'}"
        )
    for name, value in cpu_ratios.items():
        print(
            f"{name}: the exercise's server CPU per request / its own  {value:.3f}  "
            "(what the requests/s ratio would be with the CPU to itself)"
        )
    output = write_json(
        "illustrations.json",
        {
            **environment(),
            "body_bytes": sizes,
            "runs": {name: [asdict(r) for r in results] for name, results in runs.items()},
            "figures": figures,
            "ratios_rps": ratios,
            "cpu_us_per_request": cpu_us,
            "cpu_ratios": cpu_ratios,
            "target_rps_ratio_at_least": TARGET_RPS_RATIO,
            "pass": all(verdict.values()),
        },
    )
    print(f"\nwrote {output.relative_to(PROJECT_ROOT)}")
    return 0 if all(verdict.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
