"""The ceiling for the routine benchmark: one FastAPI app with both routine routes.

`POST /v1/routines` declares the body exactly as the real route does (`Annotated[Profile, Body()]`,
the same `Profile` model, so FastAPI parses and validates the same JSON) and, in an `async def`
endpoint like the real one, inserts one row into a WAL-mode SQLite file made by the app's own
`build_engine` (same pragmas: WAL, synchronous=NORMAL, foreign keys, busy timeout) with
SQLAlchemy Core: `engine.begin()` and one insert into a table shaped like `routine` (string
primary key, timestamp, outcome, indexed `previous_routine_id`, the document as JSON text). The
row's document and the response are real routines the app returned in the same run, taken in turn
from the file named by BENCH_ROUTINE_BODIES (one JSON document a line), so the ceiling stores and
sends the same mix of sizes as the real endpoint without building anything.

`GET /v1/routines/{routine_id}` declares the same path parameter as the real route and returns the
stored bytes of that routine from the same file, without touching the database.

`plain_app` is the plainest ceiling: its POST validates a plain pydantic model with the profile's
fields (no strict-JSON types, no examples) and inserts the same bytes with the standard library's
`sqlite3`: one connection, WAL, synchronous=NORMAL, one `INSERT` and a commit per request, no
SQLAlchemy. Its GET is the same as `fastapi_app`'s.

Serve with `uvicorn bench.routine_ceilings:fastapi_app` (or `:plain_app`) from the project root,
with BENCH_ROUTINE_BODIES and BENCH_CEILING_DATABASE_URL (a `sqlite:///` URL) set.
"""

import itertools
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import orjson
import sqlalchemy as sa
from fastapi import Body, FastAPI, HTTPException
from pydantic import BaseModel
from starlette.responses import Response

from app.api.routines import RoutineId
from app.db.session import build_engine
from app.domain.routines import Profile

JSON = "application/json"

BODIES = Path(os.environ["BENCH_ROUTINE_BODIES"]).read_bytes().splitlines()
DOCUMENTS = [orjson.loads(body) for body in BODIES]
BODY_BY_ID = {document["id"]: body for document, body in zip(DOCUMENTS, BODIES, strict=True)}
# (response bytes, document text for the row, outcome), in turn
ROWS = itertools.cycle(
    [
        (body, body.decode(), document["outcome"])
        for document, body in zip(DOCUMENTS, BODIES, strict=True)
    ]
)

ENGINE = build_engine(os.environ["BENCH_CEILING_DATABASE_URL"])
ROUTINES = sa.Table(
    "routine",
    sa.MetaData(),
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("previous_routine_id", sa.String(36), sa.ForeignKey("routine.id"), index=True),
    sa.Column("document", sa.Text, nullable=False),
)


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    ROUTINES.metadata.create_all(ENGINE)
    yield
    ENGINE.dispose()


fastapi_app = FastAPI(lifespan=lifespan)


@fastapi_app.post("/v1/routines", status_code=201)
async def create_routine(profile: Annotated[Profile, Body()]) -> Response:
    body, document, outcome = next(ROWS)
    with ENGINE.begin() as connection:
        connection.execute(
            sa.insert(ROUTINES).values(
                id=str(uuid.uuid4()),
                created_at=datetime.now(UTC),
                outcome=outcome,
                previous_routine_id=None,
                document=document,
            )
        )
    return Response(body, 201, media_type=JSON)


@fastapi_app.get("/v1/routines/{routine_id}")
async def get_routine(routine_id: RoutineId) -> Response:
    body = BODY_BY_ID.get(routine_id)
    if body is None:
        raise HTTPException(404)
    return Response(body, media_type=JSON)


class PlainProfile(BaseModel):
    """The profile's fields with plain types and defaults: what a minimal service would check."""

    sensitivity: str = "unknown"
    level: str = "beginner"
    target_areas: list[str] = []
    available_equipment: list[str] = []
    can_get_on_floor: bool = True
    helper_available: bool = False
    leg_symptoms: bool = False
    minutes: int = 20
    include_aerobic: bool = False
    phase: str = "acute"
    red_flags: list[str] = []
    cleared_by_clinician: bool = False
    seed: int | None = None


PLAIN_PATH = os.environ["BENCH_CEILING_DATABASE_URL"].removeprefix("sqlite:///")
PLAIN_CONNECTION = sqlite3.connect(PLAIN_PATH, check_same_thread=False, isolation_level=None)
PLAIN_CONNECTION.execute("PRAGMA journal_mode=WAL")
PLAIN_CONNECTION.execute("PRAGMA synchronous=NORMAL")
PLAIN_CONNECTION.execute(
    "CREATE TABLE IF NOT EXISTS plain_routine (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, "
    "outcome TEXT NOT NULL, document BLOB NOT NULL)"
)
PLAIN_INSERT = "INSERT INTO plain_routine (id, created_at, outcome, document) VALUES (?, ?, ?, ?)"

plain_app = FastAPI()


@plain_app.post("/v1/routines", status_code=201)
async def create_plain_routine(profile: Annotated[PlainProfile, Body()]) -> Response:
    body, _document, outcome = next(ROWS)
    PLAIN_CONNECTION.execute("BEGIN")
    PLAIN_CONNECTION.execute(
        PLAIN_INSERT, (str(uuid.uuid4()), datetime.now(UTC).isoformat(), outcome, body)
    )
    PLAIN_CONNECTION.execute("COMMIT")
    return Response(body, 201, media_type=JSON)


plain_app.get("/v1/routines/{routine_id}")(get_routine)
