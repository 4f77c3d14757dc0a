"""Benchmark of the routine endpoints, `POST /v1/routines` and `GET /v1/routines/{id}` (SQLite).

The real app and a ceiling (bench/routine_ceilings.py: one FastAPI app that validates the same
`Profile` body and inserts a row of the same size into a WAL-mode SQLite file, returning the same
bytes; and a GET route returning the stored bytes) are each started with one uvicorn worker on
127.0.0.1. wrk POSTs a mix of realistic profiles round-robin to both, then GETs the routines made
from them round-robin. The script prints requests/s, p50 and p99 of the four loads, the ratios and
PASS/FAIL against the targets: POST reaches 70% of the ceiling's requests/s with p99 at most 1.2x
the ceiling's p99, and GET reaches 80% of the ceiling's requests/s. The POST is also measured
against the plainest ceiling (`plain_app`: a plain pydantic profile and one `INSERT` with the
standard library's sqlite3), with the same targets.

Results are printed and written to var/bench/routines.json. See bench/README.md.
"""

import argparse
import os
import statistics
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
import orjson

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from app.domain.routines import Profile  # noqa: E402
from bench.catalogue import (  # noqa: E402
    BENCH_DIR,
    UVICORN_OPTIONS,
    WARM_UP_SECONDS,
    Server,
    WrkResult,
    environment,
    parse_wrk,
    project_command,
    ratio,
    serve,
    write_json,
)

ROUTINES_PATH = "/v1/routines"
JSON_HEADERS = {"Content-Type": "application/json"}
TARGET_POST_RPS_RATIO = 0.70
TARGET_POST_P99_RATIO = 1.2
TARGET_GET_RPS_RATIO = 0.80

# What a frontend sends: every sensitivity and level, floor and bed, helper, leg symptoms,
# 10-45 minutes, aerobic work, a red flag, and the seed of the day of the week (0-6) or none.
PROFILES: list[dict[str, Any]] = [
    {
        "sensitivity": "flexion_sensitive",
        "target_areas": ["lower_back", "hamstrings"],
        "available_equipment": ["mat"],
        "minutes": 20,
        "seed": 0,
    },
    {
        "sensitivity": "extension_sensitive",
        "target_areas": ["lower_back", "abdominals"],
        "available_equipment": ["mat", "pillow"],
        "minutes": 15,
        "seed": 1,
    },
    {
        "sensitivity": "none",
        "level": "intermediate",
        "target_areas": ["glutes", "abdominals", "hip_flexors"],
        "available_equipment": ["mat", "wall"],
        "minutes": 30,
        "phase": "recovering",
        "seed": 2,
    },
    {"minutes": 10},
    {
        "sensitivity": "flexion_sensitive",
        "target_areas": ["lower_back"],
        "available_equipment": ["bed", "wall"],
        "can_get_on_floor": False,
        "minutes": 15,
        "seed": 4,
    },
    {
        "sensitivity": "extension_sensitive",
        "level": "intermediate",
        "target_areas": ["hamstrings", "calves"],
        "available_equipment": ["mat", "strap"],
        "helper_available": True,
        "minutes": 25,
        "phase": "recovering",
        "seed": 5,
    },
    {
        "sensitivity": "flexion_sensitive",
        "target_areas": ["sciatic_nerve", "lower_back"],
        "available_equipment": ["mat"],
        "leg_symptoms": True,
        "minutes": 20,
        "seed": 6,
    },
    {
        "sensitivity": "none",
        "level": "advanced",
        "target_areas": ["whole_body"],
        "available_equipment": ["mat", "treadmill", "limb_weights"],
        "minutes": 45,
        "include_aerobic": True,
        "phase": "maintenance",
        "seed": 0,
    },
    {
        "sensitivity": "none",
        "level": "intermediate",
        "target_areas": ["mid_back", "lower_back"],
        "available_equipment": ["pool", "flotation_device"],
        "minutes": 40,
        "include_aerobic": True,
        "phase": "maintenance",
        "seed": 1,
    },
    {
        "sensitivity": "extension_sensitive",
        "target_areas": ["quadriceps", "glutes"],
        "available_equipment": ["bicycle"],
        "minutes": 30,
        "include_aerobic": True,
        "phase": "recovering",
        "seed": 2,
    },
    {
        "sensitivity": "flexion_sensitive",
        "target_areas": ["lower_back"],
        "available_equipment": ["mat"],
        "minutes": 20,
        "red_flags": ["fever"],
        "seed": 3,
    },
    {
        "can_get_on_floor": False,
        "helper_available": True,
        "minutes": 10,
        "seed": 5,
    },
    {
        "sensitivity": "flexion_sensitive",
        "level": "intermediate",
        "target_areas": ["abdominals", "mid_back"],
        "available_equipment": ["mat", "elliptical"],
        "minutes": 35,
        "include_aerobic": True,
        "phase": "maintenance",
        "seed": 6,
    },
]


def request_bodies(single_profile: bool = False) -> list[bytes]:
    """The profiles as request bodies, each checked to be a valid `Profile` first (only the
    first with `single_profile`: the same body every time, as the original target was measured)."""
    profiles = PROFILES[:1] if single_profile else PROFILES
    for profile in profiles:
        Profile.model_validate(profile)
    return [orjson.dumps(profile) for profile in profiles]


def fresh_database(name: str) -> str:
    """A `sqlite:///` URL for `var/bench/<name>`, with no file (or WAL) left from a last run."""
    database = BENCH_DIR / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{database}"


def lua_string(text: str) -> str:
    """`text` as a Lua long string, which needs no escaping."""
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def write_lua_script(name: str, method: str, requests: list[tuple[str, bytes | None]]) -> Path:
    """`var/bench/<name>`: a wrk script sending `method` with each (path, body) in turn.

    Each wrk thread runs its own copy, so each thread goes round the list on its own.
    """
    entries = [
        f"  {{ {lua_string(path)}, {'nil' if body is None else lua_string(body.decode())} }},"
        for path, body in requests
    ]
    script = BENCH_DIR / name
    script.write_text(
        "\n".join(
            [
                f"-- written by bench/routines.py: {method} {len(requests)} requests in turn",
                "local requests = {",
                *entries,
                "}",
                'local json = { ["Content-Type"] = "application/json" }',
                "local turn = 0",
                "",
                "request = function()",
                "  turn = turn % #requests + 1",
                "  local path, body = requests[turn][1], requests[turn][2]",
                f'  return wrk.format("{method}", path, body and json or nil, body)',
                "end",
                "",
            ]
        )
    )
    return script


def run_wrk(
    base_url: str, script: Path, duration: int, connections: int, threads: int
) -> WrkResult:
    arguments = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "-s",
        str(script.relative_to(PROJECT_ROOT)),
        base_url,
    ]
    completed = subprocess.run(
        arguments,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 30,
    )
    result = parse_wrk(completed.stdout, " ".join(arguments))
    if result.non_2xx:
        raise RuntimeError(f"{result.non_2xx} responses were not 2xx: {base_url}, {script.name}")
    return result


def load(base_url: str, script: Path, arguments: argparse.Namespace) -> WrkResult:
    """A short warm-up run (discarded), then the measured run."""
    run_wrk(base_url, script, WARM_UP_SECONDS, arguments.connections, arguments.threads)
    return run_wrk(base_url, script, arguments.duration, arguments.connections, arguments.threads)


def load_with_cpu(
    server: Server, script: Path, arguments: argparse.Namespace
) -> tuple[WrkResult, float]:
    """`load`, and the server's CPU time per request during the measured run in microseconds
    (all its threads). A busy machine moves it less than requests/s, since other work mostly
    takes turns on the CPUs rather than adding to this process's CPU time."""
    run_wrk(server.base_url, script, WARM_UP_SECONDS, arguments.connections, arguments.threads)
    before = cpu_seconds(server.process.pid)
    result = run_wrk(
        server.base_url, script, arguments.duration, arguments.connections, arguments.threads
    )
    spent = cpu_seconds(server.process.pid) - before
    return result, spent / max(result.requests, 1) * 1e6


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux), all its threads together."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def created(response: httpx.Response) -> bytes:
    if response.status_code != 201:
        raise RuntimeError(
            f"POST {ROUTINES_PATH} answered {response.status_code}, not 201: {response.text}"
        )
    return response.content


def create_each(client: httpx.Client, requests: list[bytes]) -> list[bytes]:
    """POST each body once, in order, checking for 201; returns the response bodies."""
    return [
        created(client.post(ROUTINES_PATH, content=body, headers=JSON_HEADERS)) for body in requests
    ]


def without_delete_token(created_body: bytes) -> bytes:
    """Creation's body minus its last member, the delete token: what GET returns."""
    return created_body[: created_body.rindex(b',"delete_token":')] + b"}"


def check_stored(client: httpx.Client, routines: list[bytes]) -> None:
    """Each routine reads back, by its id, as the very bytes creation returned (less the token)."""
    for routine in routines:
        path = f"{ROUTINES_PATH}/{orjson.loads(routine)['id']}"
        if client.get(path).content != routine:
            raise RuntimeError(f"GET {path} did not return the bytes its creation returned")


def byte_sizes(bodies: list[bytes]) -> dict[str, int]:
    sizes = [len(body) for body in bodies]
    return {"min": min(sizes), "mean": round(statistics.mean(sizes)), "max": max(sizes)}


UNLIMITED = "1000000000/second"


def main() -> int:
    arguments = build_parser().parse_args()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    requests = request_bodies(arguments.single_profile)
    database_url = fresh_database("routines.db")
    project_command("migrate", database_url)
    project_command("seed", database_url)
    bodies_file = BENCH_DIR / "routine_bodies.jsonl"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BENCH_ROUTINE_BODIES": str(bodies_file),
        "BENCH_CEILING_DATABASE_URL": fresh_database("routine_ceiling.db"),
        # wrk is one client sending tens of thousands of routines: far past the per-client limit
        # that protects the service from exactly that.
        "RATE_LIMIT_ROUTINES": UNLIMITED,
    }
    post_script = write_lua_script(
        "routines_post.lua", "POST", [(ROUTINES_PATH, body) for body in requests]
    )
    results: dict[str, WrkResult] = {}
    cpu: dict[str, float] = {}

    with serve("app.main:app", env, "/readyz", "routines", start_timeout=60) as server:
        with httpx.Client(base_url=server.base_url) as client:
            routines = [without_delete_token(body) for body in create_each(client, requests)]
            check_stored(client, routines)
        bodies_file.write_bytes(b"".join(routine + b"\n" for routine in routines))
        get_paths = [f"{ROUTINES_PATH}/{orjson.loads(routine)['id']}" for routine in routines]
        get_script = write_lua_script("routines_get.lua", "GET", [(p, None) for p in get_paths])
        print("loading POST on the app ...", flush=True)
        results["post"], cpu["post"] = load_with_cpu(server, post_script, arguments)
        print("loading GET on the app ...", flush=True)
        results["get"], cpu["get"] = load_with_cpu(server, get_script, arguments)

    ceiling = "bench.routine_ceilings:fastapi_app"
    with serve(ceiling, env, get_paths[0], "routine-ceiling", start_timeout=60) as server:
        with httpx.Client(base_url=server.base_url) as client:
            if create_each(client, requests) != routines:
                raise RuntimeError("the ceiling does not return the bytes the app returned")
            check_stored(client, routines)
        print("loading POST on the ceiling ...", flush=True)
        results["post-ceiling"], cpu["post-ceiling"] = load_with_cpu(server, post_script, arguments)
        print("loading GET on the ceiling ...", flush=True)
        results["get-ceiling"], cpu["get-ceiling"] = load_with_cpu(server, get_script, arguments)

    plain = "bench.routine_ceilings:plain_app"
    env["BENCH_CEILING_DATABASE_URL"] = fresh_database("routine_plain_ceiling.db")
    with serve(plain, env, get_paths[0], "routine-plain-ceiling", start_timeout=60) as server:
        with httpx.Client(base_url=server.base_url) as client:
            if create_each(client, requests) != routines:
                raise RuntimeError("the plain ceiling does not return the bytes the app returned")
        print("loading POST on the plain ceiling ...", flush=True)
        results["post-plain"], cpu["post-plain"] = load_with_cpu(server, post_script, arguments)

    return report(arguments, requests, routines, results, cpu)


def report(
    arguments: argparse.Namespace,
    requests: list[bytes],
    routines: list[bytes],
    results: dict[str, WrkResult],
    cpu: dict[str, float],
) -> int:
    post, post_ceiling = results["post"], results["post-ceiling"]
    get, get_ceiling = results["get"], results["get-ceiling"]
    ratios = {
        "post_over_ceiling_rps": ratio(post.requests_per_second, post_ceiling.requests_per_second),
        "post_over_ceiling_p99": ratio(post.p99_ms, post_ceiling.p99_ms),
        "get_over_ceiling_rps": ratio(get.requests_per_second, get_ceiling.requests_per_second),
        "get_over_ceiling_p99": ratio(get.p99_ms, get_ceiling.p99_ms),
        "post_over_ceiling_cpu_per_request": ratio(cpu["post"], cpu["post-ceiling"]),
        "get_over_ceiling_cpu_per_request": ratio(cpu["get"], cpu["get-ceiling"]),
        "post_over_plain_rps": ratio(
            post.requests_per_second, results["post-plain"].requests_per_second
        ),
        "post_over_plain_p99": ratio(post.p99_ms, results["post-plain"].p99_ms),
    }
    verdict = {
        "post_rps": ratios["post_over_ceiling_rps"] >= TARGET_POST_RPS_RATIO,
        "post_p99": ratios["post_over_ceiling_p99"] <= TARGET_POST_P99_RATIO,
        "get_rps": ratios["get_over_ceiling_rps"] >= TARGET_GET_RPS_RATIO,
        "post_plain_rps": ratios["post_over_plain_rps"] >= TARGET_POST_RPS_RATIO,
        "post_plain_p99": ratios["post_over_plain_p99"] <= TARGET_POST_P99_RATIO,
    }
    request_bytes, routine_bytes = byte_sizes(requests), byte_sizes(routines)

    def sizes(label: str, bytes_: dict[str, int]) -> str:
        return f"{label} {bytes_['min']}-{bytes_['max']} bytes (mean {bytes_['mean']})"

    def passed(key: str) -> str:
        return "PASS" if verdict[key] else "FAIL"

    print()
    print(
        f"POST {ROUTINES_PATH}: {len(requests)} profiles in turn, "
        f"{sizes('bodies', request_bytes)}, {sizes('routines', routine_bytes)}"
    )
    print(f"GET {ROUTINES_PATH}/{{id}}: the {len(routines)} routines those profiles made, in turn")
    print(
        f"wrk -t{arguments.threads} -c{arguments.connections} -d{arguments.duration}s, "
        f"uvicorn {' '.join(UVICORN_OPTIONS)}"
    )
    print()
    print(
        f"{'target':<14}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}"
        f"{'CPU us/req':>12}"
    )
    for name in ("post", "post-ceiling", "post-plain", "get", "get-ceiling"):
        result = results[name]
        print(
            f"{name:<14}{result.requests_per_second:>12.1f}{result.p50_ms:>10.2f}"
            f"{result.p99_ms:>10.2f}{result.socket_errors:>8}{cpu[name]:>12.0f}"
        )
    print()
    print(
        f"POST / ceiling requests/s  {ratios['post_over_ceiling_rps']:.3f}  "
        f"(>= {TARGET_POST_RPS_RATIO:.2f})  {passed('post_rps')}"
    )
    print(
        f"POST p99 / ceiling p99     {ratios['post_over_ceiling_p99']:.3f}  "
        f"(<= {TARGET_POST_P99_RATIO:.2f})  {passed('post_p99')}"
    )
    print(
        f"GET / ceiling requests/s   {ratios['get_over_ceiling_rps']:.3f}  "
        f"(>= {TARGET_GET_RPS_RATIO:.2f})  {passed('get_rps')}"
    )
    print(f"GET p99 / ceiling p99      {ratios['get_over_ceiling_p99']:.3f}")
    print(
        f"POST / plain requests/s    {ratios['post_over_plain_rps']:.3f}  "
        f"(>= {TARGET_POST_RPS_RATIO:.2f})  {passed('post_plain_rps')}"
    )
    print(
        f"POST p99 / plain p99       {ratios['post_over_plain_p99']:.3f}  "
        f"(<= {TARGET_POST_P99_RATIO:.2f})  {passed('post_plain_p99')}"
    )
    print(
        f"CPU per request / ceiling  POST {ratios['post_over_ceiling_cpu_per_request']:.3f}, "
        f"GET {ratios['get_over_ceiling_cpu_per_request']:.3f}  (load average "
        f"{os.getloadavg()[0]:.1f})"
    )

    output = write_json(
        "routines.json",
        {
            **environment(),
            "profiles": [orjson.loads(body) for body in requests],
            "request_bytes": request_bytes,
            "routine_bytes": routine_bytes,
            "results": {name: asdict(result) for name, result in results.items()},
            "cpu_us_per_request": cpu,
            "load_average": os.getloadavg(),
            "ratios": ratios,
            "targets": {
                "post_rps_ratio_min": TARGET_POST_RPS_RATIO,
                "post_p99_ratio_max": TARGET_POST_P99_RATIO,
                "get_rps_ratio_min": TARGET_GET_RPS_RATIO,
            },
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
        "--single-profile", action="store_true", help="POST one fixed profile, not the mix"
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
