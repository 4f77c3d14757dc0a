"""Bearer-key authentication for writes. Reads stay public."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.api.dependencies import client_address, runtime_of
from app.core.errors import AuthenticationError, ForbiddenError
from app.core.rate_limits import TooManyRequestsError
from app.core.security import Role
from app.services.keys import Caller

__all__ = ["AdminKey", "Caller", "ClinicianKey", "EditorKey", "authenticate_request"]

bearer = HTTPBearer(auto_error=False, description="An API key from `python -m app keys create`.")


async def authenticate_request(request: Request, key: str | None) -> Caller:
    """The caller behind `key`, within the client's budget of failed authentications: 401 for
    a wrong key; once the budget is spent, 429 for every wrong key, while the right key is
    still let through.

    Ten wrong keys from one address (a colleague's typos behind the same NAT, or someone
    guessing) used to lock the right key out too, the admin UI included. Letting it through
    gives a guesser nothing: a key is 256 random bits, so guessing is hopeless with or without
    the lockout, and every wrong guess is still refused and counted. What the lockout is for,
    refusing a flood of wrong keys with one cheap answer, stays."""
    runtime = runtime_of(request)
    if not key:
        return await runtime.keys.authenticate(key)
    client = client_address(request)
    try:
        await runtime.rate_limits.check_authentication_allowed(client)
    except TooManyRequestsError as locked_out:
        try:
            return await runtime.keys.authenticate(key)
        except AuthenticationError:
            await runtime.rate_limits.record_authentication_failure(client)
            raise locked_out from None
    try:
        return await runtime.keys.authenticate(key)
    except AuthenticationError:
        await runtime.rate_limits.record_authentication_failure(client)
        raise


def caller_with(role: Role):  # type: ignore[no-untyped-def]
    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Caller:
        caller = await authenticate_request(
            request, credentials.credentials if credentials else None
        )
        if not caller.role.allows(role):
            raise ForbiddenError(
                f"This needs the {role.value} role; the key {caller.name!r} is {caller.role.value}."
            )
        return caller

    return dependency


EditorKey = Annotated[Caller, Depends(caller_with(Role.editor))]
AdminKey = Annotated[Caller, Depends(caller_with(Role.admin))]
ClinicianKey = Annotated[Caller, Depends(caller_with(Role.clinician))]
