"""API key rows. Only hashes are stored."""

import hmac
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app.core.security import Role, generate_key, hash_key
from app.db.models import AdminSessionRow, ApiKeyRow


class KeyNameTakenError(Exception):
    pass


def create_key(session: Session, name: str, role: Role) -> str:
    """Store a new key's hash and return the plain key: the only time it exists."""
    if session.exec(select(ApiKeyRow).where(col(ApiKeyRow.name) == name)).first() is not None:
        raise KeyNameTakenError(name)
    key = generate_key()
    session.add(
        ApiKeyRow(name=name, role=role.value, key_hash=hash_key(key), created_at=datetime.now(UTC))
    )
    session.flush()
    return key


def list_keys(session: Session) -> list[ApiKeyRow]:
    return list(session.exec(select(ApiKeyRow).order_by(col(ApiKeyRow.name))).all())


def revoke_key(session: Session, name: str) -> bool:
    row = session.exec(select(ApiKeyRow).where(col(ApiKeyRow.name) == name)).first()
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = datetime.now(UTC)
    session.add(row)
    session.connection().execute(
        sa.update(AdminSessionRow)
        .where(col(AdminSessionRow.api_key_id) == row.id, col(AdminSessionRow.ended_at).is_(None))
        .values(ended_at=row.revoked_at)
    )
    session.flush()
    return True


def find_active_key_by_hash(session: Session, key_hash: str) -> ApiKeyRow | None:
    """The unrevoked key stored under `key_hash` (as `hash_key` makes it), or None."""
    row = session.exec(select(ApiKeyRow).where(col(ApiKeyRow.key_hash) == key_hash)).first()
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, key_hash):
        return None
    return row


def start_admin_session(
    session: Session, key_hash: str, session_hash: str, lifetime: timedelta
) -> bool:
    """Record a session for the active key stored under `key_hash` (False if there is none),
    and forget the sessions that ended or expired."""
    key = find_active_key_by_hash(session, key_hash)
    if key is None or key.id is None:
        return False
    now = datetime.now(UTC)
    session.connection().execute(
        sa.delete(AdminSessionRow).where(
            sa.or_(
                col(AdminSessionRow.ended_at).is_not(None),
                col(AdminSessionRow.created_at) < now - lifetime,
            )
        )
    )
    session.add(AdminSessionRow(id=session_hash, api_key_id=key.id, created_at=now))
    session.flush()
    return True


def find_admin_session_key(session: Session, session_hash: str, key_hash: str) -> ApiKeyRow | None:
    """The active key of the live session stored under `session_hash`, if it is the key stored
    under `key_hash`."""
    row = session.exec(
        select(ApiKeyRow)
        .join(AdminSessionRow, col(AdminSessionRow.api_key_id) == col(ApiKeyRow.id))
        .where(
            col(AdminSessionRow.id) == session_hash,
            col(AdminSessionRow.ended_at).is_(None),
            col(ApiKeyRow.revoked_at).is_(None),
        )
    ).first()
    if row is None or not hmac.compare_digest(row.key_hash, key_hash):
        return None
    return row


def end_admin_session(session: Session, session_hash: str) -> None:
    session.connection().execute(
        sa.update(AdminSessionRow)
        .where(col(AdminSessionRow.id) == session_hash, col(AdminSessionRow.ended_at).is_(None))
        .values(ended_at=datetime.now(UTC))
    )
