"""API keys: who is calling, and the keys' life cycle (create, list, revoke). Only hashes are
stored; a plain key exists once, when created."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from app.core.errors import AuthenticationError
from app.core.security import Role, hash_key
from app.db import key_queries
from app.db.key_queries import KeyNameTakenError

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
    def __init__(self, engine: Engine, require_ready: Callable[[], None] = lambda: None) -> None:
        """`require_ready` raises (503) while the schema is not at the migration head, so a key
        check on an unmigrated database is an answered error rather than an SQL failure."""
        self._engine = engine
        self._require_ready = require_ready

    def authenticate(self, presented: str | None) -> Caller:
        """The caller behind a presented key, or 401 (never saying whether a key exists)."""
        if not presented:
            raise AuthenticationError("Send an API key as `Authorization: Bearer KEY`.")
        caller = self.active_by_hash(hash_key(presented))
        if caller is None:
            raise AuthenticationError("The API key is unknown or revoked.")
        return caller

    def active_by_hash(self, key_hash: str) -> Caller | None:
        """The caller of the unrevoked key stored under `key_hash` (as `hash_key` makes it)."""
        self._require_ready()
        with Session(self._engine) as session:
            row = key_queries.find_active_key_by_hash(session, key_hash)
            return None if row is None else Caller(name=row.name, role=Role(row.role))

    def create(self, name: str, role: Role) -> str:
        """A new key, returned in plain this once; KeyNameTakenError if the name is in use."""
        with Session(self._engine) as session, session.begin():
            return key_queries.create_key(session, name, role)

    def list(self) -> list[KeyInfo]:
        with Session(self._engine) as session:
            return [
                KeyInfo(row.name, Role(row.role), row.created_at, row.revoked_at)
                for row in key_queries.list_keys(session)
            ]

    def revoke(self, name: str) -> bool:
        """False when no active key has that name."""
        with Session(self._engine) as session, session.begin():
            return key_queries.revoke_key(session, name)
