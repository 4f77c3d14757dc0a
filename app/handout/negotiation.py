"""Which handout a request asks for: HTML or PDF (`?format=` first, then `Accept`), and the paper
size. Anything the handout cannot be served as is 406, naming the parameter or header."""

from dataclasses import dataclass
from enum import StrEnum

from app.core.errors import FieldError, NotAcceptableError
from app.core.negotiation import best_match
from app.handout.render import Paper


class HandoutFormat(StrEnum):
    html = "html"
    pdf = "pdf"


MEDIA_TYPES = {HandoutFormat.html: "text/html; charset=utf-8", HandoutFormat.pdf: "application/pdf"}
OFFERED = ("text/html", "application/pdf")
"""In order of preference for ties: `*/*` gets the HTML page."""
DEFAULT_PDF_PAPER = Paper.a4


@dataclass(frozen=True)
class Variant:
    format: HandoutFormat
    paper: Paper | None
    """None: an HTML page that leaves the paper size to the printer."""

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]


def choose_variant(format_: str | None, paper: str | None, accept: str | None) -> Variant:
    chosen = format_from_query(format_) if format_ is not None else format_from_accept(accept)
    return Variant(chosen, paper_from_query(paper, chosen))


def format_from_query(value: str) -> HandoutFormat:
    try:
        return HandoutFormat(value)
    except ValueError:
        raise not_acceptable("query", "format", value, "html or pdf") from None


def format_from_accept(accept: str | None) -> HandoutFormat:
    """The best of HTML and PDF for an Accept header (no header, or `*/*`: the HTML page)."""
    if not accept:
        return HandoutFormat.html
    best = best_match(accept, OFFERED)
    if best is None:
        raise not_acceptable("header", "Accept", accept, "text/html or application/pdf")
    return HandoutFormat.pdf if best == "application/pdf" else HandoutFormat.html


def paper_from_query(value: str | None, chosen: HandoutFormat) -> Paper | None:
    if value is None:
        return DEFAULT_PDF_PAPER if chosen is HandoutFormat.pdf else None
    try:
        return Paper(value)
    except ValueError:
        raise not_acceptable("query", "paper", value, "a4 or letter") from None


def not_acceptable(location: str, name: str, value: str, offered: str) -> NotAcceptableError:
    return NotAcceptableError(
        f"The handout is not available as {name}={value[:100]!r}: ask for {offered}.",
        [FieldError(location=location, field=name, message=f"offered: {offered}")],
    )
