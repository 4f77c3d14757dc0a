"""Liveness and readiness."""

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from app.api.dependencies import RuntimeDep
from app.api.routing import ProbeRoute
from app.api.schemas import Health, Readiness
from app.core.errors import ServiceUnavailableError, problem_responses
from app.db.session import DRIVER_UNAVAILABLE_ERRORS

router = APIRouter(tags=["health"], route_class=ProbeRoute)


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
    description="The database answers, its schema is at the migration head and this "
    "process's catalogue snapshot was confirmed current within the last few refresh intervals; "
    "503 otherwise. `unreadable_exercises` names stored exercises this process cannot read "
    "(written by a newer version of the code): it stays ready and serves what it had.",
    responses=problem_responses(400, 503),
)
async def readyz(runtime: RuntimeDep) -> Readiness:
    store = runtime.catalogue_store
    max_age = runtime.settings.catalogue_max_age_seconds
    try:
        migration = await run_in_threadpool(runtime.schema_revision)
    except DRIVER_UNAVAILABLE_ERRORS:
        raise ServiceUnavailableError("The database does not answer.") from None
    if migration != store.gate.head:
        raise ServiceUnavailableError(
            f"The database schema is at {migration or 'nothing'}, not at the head "
            f"{store.gate.head}: run `python -m app migrate`."
        )
    catalogue = store.current()
    if store.age() > max_age:
        raise ServiceUnavailableError(
            f"The catalogue snapshot was last confirmed current {store.age():.1f} s ago "
            f"(more than {max_age} s): changes made elsewhere may not show here."
        )
    return Readiness(
        status="ready",
        database="reachable",
        migration=migration,
        catalogue_revision=catalogue.revision,
        unreadable_exercises=sorted(store.unreadable),
    )
