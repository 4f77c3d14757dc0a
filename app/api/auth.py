"""Bearer-key authentication for writes. Reads stay public."""

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.api.dependencies import KeysDep
from app.core.errors import ForbiddenError
from app.core.security import Role
from app.services.keys import Caller

__all__ = ["AdminKey", "Caller", "EditorKey"]

bearer = HTTPBearer(auto_error=False, description="An API key from `python -m app keys create`.")


def caller_with(role: Role):  # type: ignore[no-untyped-def]
    def dependency(
        keys: KeysDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Caller:
        caller = keys.authenticate(credentials.credentials if credentials else None)
        if not caller.role.allows(role):
            raise ForbiddenError(
                f"This needs the {role.value} role; the key {caller.name!r} is {caller.role.value}."
            )
        return caller

    return dependency


EditorKey = Annotated[Caller, Depends(caller_with(Role.editor))]
AdminKey = Annotated[Caller, Depends(caller_with(Role.admin))]
