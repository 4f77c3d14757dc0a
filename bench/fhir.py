"""Benchmark of the FHIR ActivityDefinition search beside the JSON list it is built from.

One real app (SQLite, the seeded catalogue, one uvicorn worker) serves both:

- `GET /fhir/r4/ActivityDefinition?_count=20`: a searchset Bundle of 20 full ActivityDefinitions;
- `GET /v1/exercises?limit=20`: the JSON list page of 20 summaries.

wrk loads each in turn, twice, alternating (JSON, FHIR, JSON, FHIR), so drift on the shared
machine hits both alike; the figure per target is the mean of its two runs. Target: the Bundle
reaches at least 50% of the JSON list's requests/s. Results are printed and written to
var/bench/fhir.json. See bench/README.md.
"""

import argparse
import os
import statistics
import sys
from dataclasses import asdict
from pathlib import Path

import httpx
import orjson

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from bench.catalogue import (  # noqa: E402
    BENCH_DIR,
    UVICORN_OPTIONS,
    WrkResult,
    environment,
    fresh_sqlite_catalogue,
    load,
    ratio,
    serve,
    write_json,
)

JSON_LIST = "/v1/exercises?limit=20"
FHIR_SEARCH = "/fhir/r4/ActivityDefinition?_count=20"
TARGET_RPS_RATIO = 0.50
ROUNDS = 2


def mean(results: list[WrkResult]) -> dict[str, float]:
    return {
        "requests_per_second": round(statistics.mean(r.requests_per_second for r in results), 1),
        "p50_ms": round(statistics.mean(r.p50_ms for r in results), 2),
        "p99_ms": round(statistics.mean(r.p99_ms for r in results), 2),
    }


def main() -> int:
    arguments = build_parser().parse_args()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    database_url = fresh_sqlite_catalogue()
    env = {**os.environ, "DATABASE_URL": database_url}
    targets = {"json-list": JSON_LIST, "fhir-search": FHIR_SEARCH}
    runs: dict[str, list[WrkResult]] = {name: [] for name in targets}
    with serve("app.main:app", env, JSON_LIST, "fhir", start_timeout=60) as server:
        sizes = {}
        for name, path in targets.items():
            body = httpx.get(server.base_url + path).content
            sizes[name] = len(body)
            if name == "fhir-search":
                bundle = orjson.loads(body)
                assert bundle["resourceType"] == "Bundle"
                assert len(bundle["entry"]) == 20
            else:
                assert len(orjson.loads(body)["items"]) == 20
        for round_number in range(ROUNDS):
            for name, path in targets.items():
                print(f"round {round_number + 1}: loading {name} ...", flush=True)
                runs[name].append(
                    load(
                        server.base_url + path,
                        arguments.duration,
                        arguments.connections,
                        arguments.threads,
                    )
                )
    figures = {name: mean(results) for name, results in runs.items()}
    rps_ratio = ratio(
        figures["fhir-search"]["requests_per_second"], figures["json-list"]["requests_per_second"]
    )
    passed = rps_ratio >= TARGET_RPS_RATIO

    print()
    print(
        f"wrk -t{arguments.threads} -c{arguments.connections} -d{arguments.duration}s, "
        f"{ROUNDS} alternating rounds, uvicorn {' '.join(UVICORN_OPTIONS)}"
    )
    print()
    print(f"{'target':<13}{'path':<40}{'bytes':>8}{'requests/s':>12}{'p50 ms':>9}{'p99 ms':>9}")
    for name, path in targets.items():
        figure = figures[name]
        print(
            f"{name:<13}{path:<40}{sizes[name]:>8}{figure['requests_per_second']:>12.1f}"
            f"{figure['p50_ms']:>9.2f}{figure['p99_ms']:>9.2f}"
        )
    print()
    print(f"fhir-search / json-list requests/s  {rps_ratio:.3f}")
    print(f"requests/s >= {TARGET_RPS_RATIO:.2f} x json list: {'PASS' if passed else 'FAIL'}")

    output = write_json(
        "fhir.json",
        {
            **environment(),
            "paths": targets,
            "body_bytes": sizes,
            "runs": {name: [asdict(r) for r in results] for name, results in runs.items()},
            "figures": figures,
            "ratio_rps": rps_ratio,
            "target_rps_ratio_min": TARGET_RPS_RATIO,
            "pass": passed,
        },
    )
    print(f"\nwrote {output.relative_to(PROJECT_ROOT)}")
    return 0 if passed else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    return parser


if __name__ == "__main__":
    sys.exit(main())
