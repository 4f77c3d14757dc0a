"""Bearer-key authentication for writes. Reads stay public."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlmodel import Session

from app.core.errors import AuthenticationError, ForbiddenError
from app.core.security import Role
from app.db.key_queries import find_active_key

bearer = HTTPBearer(auto_error=False, description="An API key from `python -m app keys create`.")


@dataclass(frozen=True)
class Caller:
    name: str
    role: Role


def authenticate(engine: Engine, authorization: str | None) -> Caller:
    """The caller behind a presented key, or 401 (never saying whether a key exists)."""
    if not authorization:
        raise AuthenticationError("Send an API key as `Authorization: Bearer KEY`.")
    with Session(engine) as session:
        row = find_active_key(session, authorization)
    if row is None:
        raise AuthenticationError("The API key is unknown or revoked.")
    return Caller(name=row.name, role=Role(row.role))


def caller_with(role: Role):  # type: ignore[no-untyped-def]
    def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Caller:
        caller = authenticate(
            request.app.state.engine, credentials.credentials if credentials else None
        )
        if not caller.role.allows(role):
            raise ForbiddenError(
                f"This needs the {role.value} role; the key {caller.name!r} is {caller.role.value}."
            )
        return caller

    return dependency


EditorKey = Annotated[Caller, Depends(caller_with(Role.editor))]
AdminKey = Annotated[Caller, Depends(caller_with(Role.admin))]
