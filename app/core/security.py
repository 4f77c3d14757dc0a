"""API keys and routine delete tokens: generation, hashing and roles.

Keys are 256-bit random tokens, so a single SHA-256 is enough to store them safely (no password
stretching needed); the plain key is shown once and never stored, logged or echoed.
"""

import base64
import hashlib
import hmac
import secrets
from enum import StrEnum

KEY_PREFIX = "bck_"


class Role(StrEnum):
    editor = "editor"
    """Edits the catalogue."""
    admin = "admin"
    """Everything: keys, imports, purges, and what the other roles do."""
    clinician = "clinician"
    """Builds and stores programs for people (POST /v1/programs)."""

    def allows(self, needed: "Role") -> bool:
        return self is Role.admin or self is needed


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def generate_delete_token() -> str:
    """A routine's delete token: 256 random bits, shown once; only `hash_key(token)` is kept."""
    return secrets.token_urlsafe(32)


def delete_token_for(idempotency_key: str, routine_id: str) -> str:
    """The delete token of a routine created with an Idempotency-Key: an HMAC-SHA256 of the
    routine's id keyed by that key, so a retry that presents the key again gets the same token
    back although only its hash is stored. Whoever holds the key can retrieve the routine anyway
    (by retrying), so the token gives them nothing more."""
    digest = hmac.new(idempotency_key.encode(), routine_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def hash_idempotency_key(key: str, scope: str) -> str:
    """An Idempotency-Key as stored: its SHA-256 within `scope` (the operation it was sent to)."""
    return hashlib.sha256(f"{scope}\n{key}".encode()).hexdigest()
