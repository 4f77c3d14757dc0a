"""The admin web UI's session cookie, signed and time-stamped by itsdangerous.

The cookie holds the SHA-256 of the admin key (never the key), the id of its session, recorded in
the database (`admin_session`, only the id's hash), and a random CSRF token: every form echoes
the token and a POST whose token differs from its session's is refused (the synchronizer token
pattern). Logging out, or revoking the key, ends the recorded session, so a copy of the cookie
kept after that is refused although its signature is still good. Signing, timestamps and their
checks are itsdangerous's; nothing here is our own cryptography.
"""

import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "backcare_admin"
COOKIE_PATH = "/admin"
SESSION_SECONDS = 8 * 60 * 60
SALT = "backcare-admin-session"


@dataclass(frozen=True)
class SessionContents:
    key_hash: str
    csrf: str
    session_id: str


class AdminSessionCookie:
    """Issues and reads session cookies signed with `admin_session_secret`."""

    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=SALT)

    def issue(self, key_hash: str, session_id: str) -> str:
        return self._serializer.dumps(
            {"key": key_hash, "sid": session_id, "csrf": secrets.token_urlsafe(32)}
        )

    def read(self, token: str) -> SessionContents | None:
        """What a well-signed session younger than SESSION_SECONDS holds; None otherwise."""
        try:
            contents = self._serializer.loads(token, max_age=SESSION_SECONDS)
        except BadSignature:
            return None
        if not isinstance(contents, dict):
            return None
        key_hash, csrf, session_id = contents.get("key"), contents.get("csrf"), contents.get("sid")
        if not (
            isinstance(key_hash, str) and isinstance(csrf, str) and isinstance(session_id, str)
        ):
            return None  # a cookie from before sessions were recorded: log in again
        return SessionContents(key_hash=key_hash, csrf=csrf, session_id=session_id)


def same_token(sent: str, expected: str) -> bool:
    return secrets.compare_digest(sent.encode(), expected.encode())
