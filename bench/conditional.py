"""Benchmark of conditional GETs: a 304 beside the 200 it replaces, for the list and a routine.

One real app (SQLite, the seeded catalogue, one uvicorn worker) serves six loads:

- `GET /v1/exercises` (the first page, 20 summaries) and the same with `If-None-Match` naming its
  current ETag (a 304, answered before the route runs: no search, no body);
- `GET /v1/routines/{id}` for 13 routines in turn (the profiles of bench/routines.py) and the same
  with each routine's ETag (a 304 after the route has checked that the routine still exists);
- each of those 200s again with `Accept-Encoding: gzip` (bytes compressed once per snapshot, not
  per request), for information.

wrk loads each in turn, twice, alternating (200, 304, 200, 304 per endpoint), so drift on the
shared machine hits both alike; the figure per load is the mean of its two runs. Target: each 304
costs less than its 200, i.e. serves more requests/s in the same run. Results are printed and
written to var/bench/conditional.json. See bench/README.md.
"""

import argparse
import os
import sys
from dataclasses import asdict
from pathlib import Path

import httpx
import orjson

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
from bench.routines import (  # noqa: E402
    JSON_HEADERS,
    UNLIMITED,
    load,
    lua_string,
    request_bodies,
)

LIST_PATH = "/v1/exercises"
ROUTINES_PATH = "/v1/routines"
ROUNDS = 2
TARGET_RPS_RATIO = 1.0
"""A 304 must serve more requests/s than the 200 it replaces."""

Request = tuple[str, dict[str, str]]
"""A path, and the headers to send with it."""


def lua_headers(headers: dict[str, str]) -> str:
    pairs = [f"[ {lua_string(name)} ] = {lua_string(value)}," for name, value in headers.items()]
    return "{ " + " ".join(pairs) + " }"


def write_lua_script(name: str, requests: list[Request]) -> Path:
    """`var/bench/<name>`: a wrk script GETting each path in turn, with its headers."""
    entries = [f"  {{ {lua_string(path)}, {lua_headers(headers)} }}," for path, headers in requests]
    script = BENCH_DIR / name
    script.write_text(
        "\n".join(
            [
                f"-- written by bench/conditional.py: GET {len(requests)} requests in turn",
                "local requests = {",
                *entries,
                "}",
                "local turn = 0",
                "",
                "request = function()",
                "  turn = turn % #requests + 1",
                '  return wrk.format("GET", requests[turn][1], requests[turn][2], nil)',
                "end",
                "",
            ]
        )
    )
    return script


def expect(response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        raise RuntimeError(f"{response.request.url} answered {response.status_code}, not {status}")
    return response


def conditional_loads(
    client: httpx.Client, name: str, paths: list[str]
) -> tuple[dict[str, Path], int]:
    """The wrk scripts of the 200, the 304 and the gzip 200 loads over `paths`, checked first;
    and the size of the first 200's body."""
    loads: dict[str, list[Request]] = {f"{name}-200": [], f"{name}-304": [], f"{name}-gzip": []}
    for path in paths:
        answer = expect(client.get(path, headers={"Accept-Encoding": "identity"}), 200)
        tag = answer.headers["etag"]
        not_modified = expect(client.get(path, headers={"If-None-Match": tag}), 304)
        if not_modified.content:
            raise RuntimeError(f"the 304 of {path} has a body")
        zipped = expect(client.get(path, headers={"Accept-Encoding": "gzip"}), 200)
        if zipped.headers.get("content-encoding") != "gzip" or zipped.content != answer.content:
            raise RuntimeError(f"{path} is not served gzip-compressed")
        loads[f"{name}-200"].append((path, {}))
        loads[f"{name}-304"].append((path, {"If-None-Match": tag}))
        loads[f"{name}-gzip"].append((path, {"Accept-Encoding": "gzip"}))
    size = len(client.get(paths[0]).content)
    scripts = {load: write_lua_script(f"conditional_{load}.lua", r) for load, r in loads.items()}
    return scripts, size


def main() -> int:
    arguments = build_parser().parse_args()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    database_url = fresh_sqlite_catalogue()
    env = {**os.environ, "DATABASE_URL": database_url, "RATE_LIMIT_ROUTINES": UNLIMITED}
    scripts: dict[str, Path] = {}
    sizes: dict[str, int] = {}
    with serve("app.main:app", env, LIST_PATH, "conditional", start_timeout=60) as server:
        with httpx.Client(base_url=server.base_url) as client:
            routine_paths = [
                f"{ROUTINES_PATH}/{orjson.loads(expect(created, 201).content)['id']}"
                for created in (
                    client.post(ROUTINES_PATH, content=body, headers=JSON_HEADERS)
                    for body in request_bodies()
                )
            ]
            for name, paths in (("list", [LIST_PATH]), ("routine", routine_paths)):
                loads, sizes[name] = conditional_loads(client, name, paths)
                scripts.update(loads)
        runs: dict[str, list[WrkResult]] = {name: [] for name in scripts}
        for round_number in range(ROUNDS):
            for name, script in scripts.items():
                print(f"round {round_number + 1}: loading {name} ...", flush=True)
                runs[name].append(load(server.base_url, script, arguments))
    return report(arguments, runs, sizes, len(routine_paths))


def report(
    arguments: argparse.Namespace,
    runs: dict[str, list[WrkResult]],
    sizes: dict[str, int],
    routine_count: int,
) -> int:
    figures = {name: fhir.mean(results) for name, results in runs.items()}
    ratios = {
        name: ratio(
            figures[f"{name}-304"]["requests_per_second"],
            figures[f"{name}-200"]["requests_per_second"],
        )
        for name in sizes
    }
    verdict = {name: value > TARGET_RPS_RATIO for name, value in ratios.items()}
    gzip_ratios = {
        name: ratio(
            figures[f"{name}-gzip"]["requests_per_second"],
            figures[f"{name}-200"]["requests_per_second"],
        )
        for name in sizes
    }
    print()
    print(
        f"GET {LIST_PATH} ({sizes['list']} bytes) and GET {ROUTINES_PATH}/{{id}} "
        f"({routine_count} routines in turn, the first {sizes['routine']} bytes), "
        "each plain, with If-None-Match (304) and with Accept-Encoding: gzip"
    )
    print(
        f"wrk -t{arguments.threads} -c{arguments.connections} -d{arguments.duration}s, "
        f"{ROUNDS} alternating rounds, uvicorn {' '.join(UVICORN_OPTIONS)}"
    )
    print()
    print(f"{'load':<14}{'requests/s':>12}{'p50 ms':>9}{'p99 ms':>9}")
    for name, figure in figures.items():
        print(
            f"{name:<14}{figure['requests_per_second']:>12.1f}{figure['p50_ms']:>9.2f}"
            f"{figure['p99_ms']:>9.2f}"
        )
    print()
    for name, value in ratios.items():
        print(
            f"{name} 304 / 200 requests/s  {value:.3f}  (> {TARGET_RPS_RATIO:.2f})  "
            f"{'PASS' if verdict[name] else 'FAIL'}"
        )
    for name, value in gzip_ratios.items():
        print(
            f"{name} gzip / plain 200 requests/s  {value:.3f}  (compressed once, not per request)"
        )
    output = write_json(
        "conditional.json",
        {
            **environment(),
            "body_bytes": sizes,
            "runs": {name: [asdict(r) for r in results] for name, results in runs.items()},
            "figures": figures,
            "ratios_rps": ratios,
            "gzip_ratios_rps": gzip_ratios,
            "target_rps_ratio_above": TARGET_RPS_RATIO,
            "pass": all(verdict.values()),
        },
    )
    print(f"\nwrote {output.relative_to(PROJECT_ROOT)}")
    return 0 if all(verdict.values()) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = fhir.build_parser()
    parser.description = __doc__
    return parser


if __name__ == "__main__":
    sys.exit(main())
