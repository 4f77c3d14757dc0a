"""API key rows. Only hashes are stored."""

import hmac
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from app.core.security import Role, generate_key, hash_key
from app.db.models import ApiKeyRow


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
    session.flush()
    return True


def find_active_key_by_hash(session: Session, key_hash: str) -> ApiKeyRow | None:
    """The unrevoked key stored under `key_hash` (as `hash_key` makes it), or None."""
    row = session.exec(select(ApiKeyRow).where(col(ApiKeyRow.key_hash) == key_hash)).first()
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, key_hash):
        return None
    return row
