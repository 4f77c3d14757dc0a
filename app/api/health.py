"""Liveness and readiness."""

from fastapi import APIRouter, Request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from app.api.dependencies import CatalogueDep
from app.api.routing import StrictQueryRoute
from app.api.schemas import Health, Readiness
from app.core.errors import ServiceUnavailableError, problem_responses
from app.db.migrations import current_revision

router = APIRouter(tags=["health"], route_class=StrictQueryRoute)


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
    description="The database answers and its schema is at the migration head; 503 otherwise.",
    responses=problem_responses(400, 503),
)
async def readyz(request: Request, catalogue: CatalogueDep) -> Readiness:
    engine = request.app.state.engine
    expected = request.app.state.migration_head

    def check() -> str | None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return current_revision(engine)

    try:
        migration = await run_in_threadpool(check)
    except SQLAlchemyError:
        raise ServiceUnavailableError("The database does not answer.") from None
    if migration != expected:
        raise ServiceUnavailableError(
            f"The database schema is at {migration or 'nothing'}, not at the head {expected}: "
            "run `python -m app migrate`."
        )
    return Readiness(
        status="ready",
        database="reachable",
        migration=migration,
        catalogue_revision=catalogue.revision,
    )
