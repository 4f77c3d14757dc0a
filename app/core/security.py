"""API keys: generation, hashing and roles.

Keys are 256-bit random tokens, so a single SHA-256 is enough to store them safely (no password
stretching needed); the plain key is shown once and never stored, logged or echoed.
"""

import hashlib
import secrets
from enum import StrEnum

KEY_PREFIX = "bck_"


class Role(StrEnum):
    editor = "editor"
    admin = "admin"

    def allows(self, needed: "Role") -> bool:
        return self is Role.admin or self is needed


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
