"""Liveness and readiness."""

import asyncio
import time

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from app.api.dependencies import RuntimeDep
from app.api.routing import ProbeRoute
from app.api.schemas import Health, Readiness
from app.core.errors import ServiceUnavailableError, problem_responses
from app.db.session import DRIVER_UNAVAILABLE_ERRORS

router = APIRouter(tags=["health"], route_class=ProbeRoute)

READINESS_QUERY_SECONDS = 2.0
"""How long readiness waits for the database's answer: a probe must answer promptly, and a
database that takes longer is not ready to serve requests either."""
RECENT_WRITE_SECONDS = 60.0
"""A write that failed for want of storage (a full disk) keeps readiness 503 this long, unless
a later write succeeds."""


@router.get(
    "/healthz",
    response_model=Health,
    summary="Liveness",
    description="The process is up. Says nothing about the database.",
    responses=problem_responses(400),
)
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness",
    description="This process's catalogue snapshot was confirmed current within the last few "
    "refresh intervals, no write failed for want of storage (a full disk) in the last minute "
    "(unless one succeeded since), and the database answers within 2 s with its schema at the "
    "migration head; 503 otherwise. `unreadable_exercises` names stored exercises this "
    "process cannot read (written by a newer version of the code): it stays ready and serves "
    "what it had.",
    responses=problem_responses(400, 503),
)
async def readyz(runtime: RuntimeDep) -> Readiness:
    """What is known without the database first (the snapshot's age, the last write's
    outcome), so a frozen database path is a prompt 503; then the database itself, within
    READINESS_QUERY_SECONDS."""
    store = runtime.catalogue_store
    max_age = runtime.settings.catalogue_max_age_seconds
    if store.age() > max_age:
        raise ServiceUnavailableError(
            f"The catalogue snapshot was last confirmed current {store.age():.1f} s ago "
            f"(more than {max_age} s): the database does not answer this process's refresher, "
            "or changes made elsewhere may not show here."
        )
    failure = runtime.database.last_write_failure
    if failure is not None and time.monotonic() - failure[0] < RECENT_WRITE_SECONDS:
        raise ServiceUnavailableError(
            f"A write failed {time.monotonic() - failure[0]:.0f} s ago and none has succeeded "
            f"since: {failure[1]}"
        )
    try:
        async with asyncio.timeout(READINESS_QUERY_SECONDS):
            migration = await run_in_threadpool(runtime.schema_revision)
    except TimeoutError:
        raise ServiceUnavailableError(
            f"The database did not answer within {READINESS_QUERY_SECONDS:g} s."
        ) from None
    except DRIVER_UNAVAILABLE_ERRORS:
        raise ServiceUnavailableError("The database does not answer.") from None
    if migration != store.gate.head:
        raise ServiceUnavailableError(
            f"The database schema is at {migration or 'nothing'}, not at the head "
            f"{store.gate.head}: run `python -m app migrate`."
        )
    catalogue = store.current()
    return Readiness(
        status="ready",
        database="reachable",
        migration=migration,
        catalogue_revision=catalogue.revision,
        unreadable_exercises=sorted(store.unreadable),
    )
