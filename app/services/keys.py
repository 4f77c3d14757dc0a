"""API keys: who is calling, and the keys' life cycle (create, list, revoke). Only hashes are
stored; a plain key exists once, when created."""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection
from sqlmodel import Session

from app.core.errors import AuthenticationError
from app.core.security import Role, hash_key
from app.db import key_queries
from app.db.key_queries import KeyNameTakenError
from app.db.session import Database, Result

__all__ = ["Caller", "KeyInfo", "KeyNameTakenError", "Keys"]


@dataclass(frozen=True)
class Caller:
    name: str
    role: Role


@dataclass(frozen=True)
class KeyInfo:
    """A stored key as listed: never the key, nor its hash."""

    name: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None


class Keys:
    def __init__(self, database: Database) -> None:
        """Every call runs in the thread pool through `database`, whose readiness check makes a
        key check on an unmigrated database an answered 503 rather than an SQL failure."""
        self._database = database

    async def authenticate(self, presented: str | None) -> Caller:
        """The caller behind a presented key, or 401 (never saying whether a key exists)."""
        if not presented:
            raise AuthenticationError("Send an API key as `Authorization: Bearer KEY`.")
        caller = await self.active_by_hash(hash_key(presented))
        if caller is None:
            raise AuthenticationError("The API key is unknown or revoked.")
        return caller

    async def active_by_hash(self, key_hash: str) -> Caller | None:
        """The caller of the unrevoked key stored under `key_hash` (as `hash_key` makes it)."""

        def find(session: Session) -> Caller | None:
            row = key_queries.find_active_key_by_hash(session, key_hash)
            return None if row is None else Caller(name=row.name, role=Role(row.role))

        return await self._database.read(in_session(find))

    async def create(self, name: str, role: Role) -> str:
        """A new key, returned in plain this once; KeyNameTakenError if the name is in use."""
        return await self._database.transaction(
            in_session(lambda session: key_queries.create_key(session, name, role))
        )

    async def list(self) -> list[KeyInfo]:
        def listed(session: Session) -> list[KeyInfo]:
            return [
                KeyInfo(row.name, Role(row.role), row.created_at, row.revoked_at)
                for row in key_queries.list_keys(session)
            ]

        return await self._database.read(in_session(listed))

    async def start_session(self, key_hash: str, lifetime: timedelta) -> str | None:
        """A new admin UI session for the active key stored under `key_hash`: its id, for the
        signed cookie (only its hash is stored), or None if the key is not active."""
        session_id = secrets.token_urlsafe(32)
        started = await self._database.transaction(
            in_session(
                lambda session: key_queries.start_admin_session(
                    session, key_hash, hash_key(session_id), lifetime
                )
            )
        )
        return session_id if started else None

    async def session_caller(self, session_id: str, key_hash: str) -> Caller | None:
        """The caller of a live session (not logged out, its key not revoked), or None."""

        def find(session: Session) -> Caller | None:
            row = key_queries.find_admin_session_key(session, hash_key(session_id), key_hash)
            return None if row is None else Caller(name=row.name, role=Role(row.role))

        return await self._database.read(in_session(find))

    async def end_session(self, session_id: str) -> None:
        """Log out: the session ends for every copy of its cookie."""
        await self._database.transaction(
            in_session(lambda session: key_queries.end_admin_session(session, hash_key(session_id)))
        )

    async def revoke(self, name: str) -> bool:
        """False when no active key has that name. Its admin UI sessions end with it."""
        return await self._database.transaction(
            in_session(lambda session: key_queries.revoke_key(session, name))
        )


def in_session(work: Callable[[Session], Result]) -> Callable[[Connection], Result]:
    """`work` on an ORM session over the unit of work's connection (and its transaction)."""

    def run(connection: Connection) -> Result:
        with Session(bind=connection) as session:
            return work(session)

    return run
