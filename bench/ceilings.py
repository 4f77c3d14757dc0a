"""Two ceilings for the catalogue list benchmark, both serving one fixed body.

`bare_app` is a raw ASGI callable: the fastest a Python server on this machine can answer.
`fastapi_app` declares the list endpoint's query parameters exactly as the real route does
(`Annotated[ExerciseFilters, Query()]`), so it pays FastAPI's routing and parameter validation and
nothing else. The body is read once at start-up from the file named by BENCH_FIXED_BODY, which
bench/catalogue.py fills with the bytes the real endpoint returned, so all three serve the same
bytes.

Serve with `uvicorn bench.ceilings:bare_app` or `uvicorn bench.ceilings:fastapi_app` from the
project root, with BENCH_FIXED_BODY set.
"""

import os
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Query
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from app.api.exercises import ExerciseFilters

FIXED_BODY = Path(os.environ["BENCH_FIXED_BODY"]).read_bytes()
JSON = "application/json"

BARE_HEADERS = [
    (b"content-length", str(len(FIXED_BODY)).encode()),
    (b"content-type", JSON.encode()),
]


async def bare_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": BARE_HEADERS})
    await send({"type": "http.response.body", "body": FIXED_BODY})


fastapi_app = FastAPI()


@fastapi_app.get("/v1/exercises")
async def list_exercises(filters: Annotated[ExerciseFilters, Query()]) -> Response:
    return Response(FIXED_BODY, media_type=JSON)
