"""Content negotiation on `Accept` (RFC 9110, 12.5.1), parsed by werkzeug: the one parser every
route uses, for JSON, handouts, FHIR and the problem pages alike."""

from functools import lru_cache

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header


@lru_cache(maxsize=512)
def best_match(accept: str, offered: tuple[str, ...]) -> str | None:
    """The offered media type the Accept header prefers (on a tie, the first offered), or None
    when it admits none of them (`*/*`, `application/*` and q-values count as RFC 9110 says)."""
    return parse_accept_header(accept, MIMEAccept).best_match(offered)
