"""Content negotiation on `Accept` (RFC 9110, 12.5.1), parsed by werkzeug: the one parser every
route uses, for JSON, handouts, FHIR and the problem pages alike."""

from functools import lru_cache

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

FHIR_VERSION = "4.0"
"""The FHIR release served (R4): an Accept entry naming another `fhirVersion` admits nothing."""


@lru_cache(maxsize=512)
def best_match(accept: str, offered: tuple[str, ...]) -> str | None:
    """The offered media type the Accept header prefers (on a tie, the first offered), or None
    when it admits none of them (`*/*`, `application/*` and q-values count as RFC 9110 says).

    Entries match on their type alone: parameters the server does not vary on
    (`application/json; charset=utf-8`) are ignored, as RFC 9110 allows, except a `fhirVersion`
    other than 4.0, which FHIR R4 says to refuse."""
    entries = parse_accept_header(accept, MIMEAccept)
    by_type = [(media, quality) for value, quality in entries if (media := served_type(value))]
    return MIMEAccept(by_type).best_match(offered)


def served_type(entry: str) -> str | None:
    """An Accept entry's media type without its parameters; None when a parameter asks for
    what is not served (another FHIR version)."""
    media_type, *parameters = entry.split(";")
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "fhirversion" and not value.strip(' "').startswith(FHIR_VERSION):
            return None
    return media_type.strip()
