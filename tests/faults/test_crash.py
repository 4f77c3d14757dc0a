"""`kill -9` the server while clients stream POST /v1/routines: after a restart, every routine
it acknowledged with a 201 is there, byte for byte as the 201 returned it."""

import threading
import time
from typing import Any

import httpx
import orjson

STREAMS = 4
ACKNOWLEDGED_BEFORE_KILL = 40


def without_delete_token(created: bytes) -> bytes:
    """Creation's bytes less the delete token, which is returned once and never stored."""
    document = orjson.loads(created)
    assert document.pop("delete_token")
    return orjson.dumps(document)


def test_every_acknowledged_routine_survives_kill_9(
    fresh_database_url: str, server_process: Any
) -> None:
    server = server_process(fresh_database_url)
    server.start()
    acknowledged: dict[str, bytes] = {}
    killed = threading.Event()

    def stream(first_seed: int) -> None:
        with httpx.Client(base_url=server.base, timeout=10) as client:
            for seed in range(first_seed, first_seed + 10_000):
                try:
                    response = client.post("/v1/routines", json={"seed": seed})
                except httpx.TransportError:
                    return  # the server died under this request: not acknowledged
                if response.status_code == 201:
                    acknowledged[response.json()["id"]] = response.content
                if killed.is_set():
                    return

    streams = [threading.Thread(target=stream, args=(index * 10_000,)) for index in range(STREAMS)]
    for thread in streams:
        thread.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < ACKNOWLEDGED_BEFORE_KILL and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill()  # mid-stream: requests are in flight on every connection
    killed.set()
    for thread in streams:
        thread.join(timeout=30)
    assert len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL

    server.start()
    with httpx.Client(base_url=server.base, timeout=10) as client:
        for routine_id, created in acknowledged.items():
            stored = client.get(f"/v1/routines/{routine_id}")
            assert stored.status_code == 200, routine_id
            assert stored.content == without_delete_token(created)
