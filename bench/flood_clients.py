"""One client floods the server three ways; how does another client's list answer?

The server is `python -m app serve` (what the Docker image runs: one worker, the connection caps
of app/core/server.py, the default limits) on a fresh seeded SQLite file under var/bench/. A
reader on 127.0.0.1 loads `GET /v1/exercises` with wrk (`-t1 -c4 --latency`). The flooder is
another process speaking from 127.0.0.2 (all of 127.0.0.0/8 is this machine, so the server sees
two client addresses), started a second before the reader and stopped after it. The cases:

- `alone`: the reader alone;
- `connections`: the flooder holds 600 connections open and idle, re-opening each one the server
  closes (before the per-address cap, 512 of them took every connection the server had);
- `pdfs`: 30 requests at once, without pause, for the PDF handouts of 120 routines made
  beforehand (from other addresses): each PDF not yet rendered takes a core for a second or so,
  until the client's RATE_LIMIT_RENDERS budget (30/minute) is spent; rendered ones are cached;
- `routines`: 32 connections POST routine profiles without pause (RATE_LIMIT_ROUTINES, 60/minute,
  answers the rest 429, each after RATE_LIMIT_REFUSAL_DELAY_SECONDS; set it to 0 in this
  script's environment to measure without the pause).

Prints, for each case, the reader's requests/s, p50, p99, its non-2xx answers, p50 and p99 as a
ratio to `alone`, and what the flooder got (answers by status); writes var/bench/flood_clients.json.
The target: another client's median and p99 within 2x of `alone`. See bench/README.md.
"""

import argparse
import asyncio
import collections
import os
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import orjson

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from bench.catalogue import (  # noqa: E402
    BENCH_DIR,
    LIST_PATH,
    WrkResult,
    environment,
    free_port,
    parse_wrk,
    project_command,
    ratio,
    wait_until_answering,
    write_json,
)
from bench.routines import fresh_database, request_bodies  # noqa: E402

FLOODER = "127.0.0.2"
CASES = ("alone", "connections", "pdfs", "routines")
HEAD_START_SECONDS = 1.0
IDLE_CONNECTIONS = 600
PDF_ROUTINES = 120
PDF_CONCURRENCY = 30
ROUTINE_CONNECTIONS = 32
SETUP_ADDRESS_PREFIX = "127.0.1."
"""Routines for the PDF flood are made beforehand from 127.0.1.1, .2...: 50 each, within the
routine budget of each address."""


def read_wrk(url: str, duration: int, connections: int) -> WrkResult:
    """wrk's result; unlike bench.catalogue.run_wrk, non-2xx answers are counted, not fatal."""
    arguments = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", url]
    completed = subprocess.run(
        arguments, capture_output=True, text=True, check=True, timeout=duration + 60
    )
    return parse_wrk(completed.stdout, " ".join(arguments))


# The flooder: raw HTTP/1.1 over asyncio streams, as light on the shared cores as a client can be.


async def open_from(host: str, port: int, source: str) -> tuple[Any, Any]:
    return await asyncio.open_connection(host, port, local_addr=(source, 0))


async def exchange(reader: Any, writer: Any, request: bytes) -> int:
    """Send one request on a kept-alive connection; its status (0 if the server closed)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return int(head.split(b" ", 2)[1])


def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()


def post(path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def keep_asking(
    host: str, port: int, requests: list[bytes], offset: int, deadline: float, tally: Any
) -> None:
    """Send `requests` round-robin from `offset` on one connection (re-opened when closed)."""
    index = offset
    while time.monotonic() < deadline:
        try:
            reader, writer = await open_from(host, port, FLOODER)
        except OSError:
            tally["connect failed"] += 1
            await asyncio.sleep(0.01)
            continue
        try:
            while time.monotonic() < deadline:
                tally[await exchange(reader, writer, requests[index % len(requests)])] += 1
                index += 1
        except (OSError, asyncio.IncompleteReadError):
            tally["closed"] += 1
        finally:
            writer.close()


async def hold_idle(host: str, port: int, deadline: float, tally: Any) -> None:
    """Hold one idle connection open; when the server closes it, open another."""
    while time.monotonic() < deadline:
        try:
            reader, writer = await open_from(host, port, FLOODER)
        except OSError:
            tally["connect failed"] += 1
            await asyncio.sleep(0.05)
            continue
        tally["opened"] += 1
        try:
            await asyncio.wait_for(reader.read(), max(0.01, deadline - time.monotonic()))
            tally["closed by the server"] += 1
        except (TimeoutError, OSError):
            pass
        finally:
            writer.close()


async def make_routines(host: str, port: int, count: int) -> list[str]:
    """`count` routines, made from setup addresses (50 each, within each one's budget)."""
    ids: list[str] = []
    bodies = request_bodies()
    while len(ids) < count:
        source = f"{SETUP_ADDRESS_PREFIX}{len(ids) // 50 + 1}"
        reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
        for _ in range(min(50, count - len(ids))):
            writer.write(post("/v1/routines", bodies[len(ids) % len(bodies)]))
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            ids.append(orjson.loads(await reader.readexactly(length))["id"])
        writer.close()
    return ids


async def flood(kind: str, host: str, port: int, seconds: float, routine_ids: list[str]) -> Any:
    deadline = time.monotonic() + seconds
    tally: collections.Counter[Any] = collections.Counter()
    if kind == "connections":
        workers = [hold_idle(host, port, deadline, tally) for _ in range(IDLE_CONNECTIONS)]
    elif kind == "pdfs":
        pdfs = [get(f"/v1/routines/{rid}/handout?format=pdf") for rid in routine_ids]
        workers = [
            keep_asking(host, port, pdfs, i * 4, deadline, tally) for i in range(PDF_CONCURRENCY)
        ]
    else:
        profiles = [post("/v1/routines", body) for body in request_bodies()]
        workers = [
            keep_asking(host, port, profiles, i, deadline, tally)
            for i in range(ROUTINE_CONNECTIONS)
        ]
    await asyncio.gather(*workers)
    return {str(key): value for key, value in sorted(tally.items(), key=str)}


def run_flooder(arguments: argparse.Namespace) -> int:
    host, port = arguments.base.removeprefix("http://").split(":")
    routine_ids = arguments.routines.split(",") if arguments.routines else []
    result = asyncio.run(flood(arguments.flood, host, int(port), arguments.seconds, routine_ids))
    print(orjson.dumps(result).decode())
    return 0


# The driver.


def run_case(name: str, arguments: argparse.Namespace) -> dict[str, Any]:
    database_url = fresh_database("flood_clients.db")
    project_command("migrate", database_url)
    project_command("seed", database_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "error"}
    log_path = BENCH_DIR / "flood_clients.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_answering(server, base + "/readyz", 60, log_path)
        routine_ids = []
        if name == "pdfs":
            routine_ids = asyncio.run(make_routines("127.0.0.1", port, PDF_ROUTINES))
        read_wrk(base + LIST_PATH, 2, arguments.reader_connections)  # warm-up
        flooder = None
        if name != "alone":
            seconds = arguments.duration + 2 * HEAD_START_SECONDS
            command = [sys.executable, __file__, "--flood", name, "--base", base]
            command += ["--seconds", str(seconds), "--routines", ",".join(routine_ids)]
            flooder = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE)
            time.sleep(HEAD_START_SECONDS)
        reader = read_wrk(base + LIST_PATH, arguments.duration, arguments.reader_connections)
        flooded = None
        if flooder is not None:
            output, _ = flooder.communicate(timeout=arguments.duration + 120)
            flooded = orjson.loads(output)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"case": name, "reader": asdict(reader), "flooder": flooded}


def report(results: list[dict[str, Any]]) -> None:
    alone = results[0]["reader"]
    for result in results:
        reader = result["reader"]
        result["p50_ratio"] = ratio(reader["p50_ms"], alone["p50_ms"])
        result["p99_ratio"] = ratio(reader["p99_ms"], alone["p99_ms"])
        print(
            f"{result['case']:<12} reader {reader['requests_per_second']:>8,.0f} req/s"
            f"  p50 {reader['p50_ms']:7.2f} ms ({result['p50_ratio']:.2f}x)"
            f"  p99 {reader['p99_ms']:8.2f} ms ({result['p99_ratio']:.2f}x)"
            f"  non-2xx {reader['non_2xx']}"
            + (f"   flooder {result['flooder']}" if result["flooder"] else ""),
            flush=True,
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="reader's seconds per case")
    parser.add_argument("--reader-connections", type=int, default=4)
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated, alone first")
    parser.add_argument("--flood", choices=CASES[1:], help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--routines", default="", help=argparse.SUPPRESS)
    return parser


def main() -> int:
    arguments = build_parser().parse_args()
    if arguments.flood:
        return run_flooder(arguments)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    results = [run_case(name, arguments) for name in arguments.cases.split(",")]
    report(results)
    path = write_json(
        "flood_clients.json",
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
