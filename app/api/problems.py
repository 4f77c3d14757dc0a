"""The problem types' own pages: every `type` a problem document carries (`/problems/{slug}`)
resolves to a short page saying what it means, as HTML or, on `Accept: application/json`, JSON.
Both are made from the one list of problem types, `problem_types()`."""

from html import escape
from http import HTTPStatus

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from app.api.params import JSON
from app.api.routing import NegotiatingRoute
from app.core.errors import (
    PROBLEM_TYPE_BASE,
    ApiError,
    NotFoundError,
    not_acceptable,
    problem_types,
)
from app.core.negotiation import best_match

router = APIRouter(route_class=NegotiatingRoute, include_in_schema=False)

HTML = "text/html"
OFFERED = (HTML, JSON)
"""A browser following a `type` link gets the page; `*/*` too."""
CACHE_CONTROL = "public, max-age=86400"
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem}}
code{{background:#f2f2f2;padding:0 .2em}}dt{{font-weight:600;margin-top:1em}}</style>
</head><body>
{body}
</body></html>
"""


def document(kind: type[ApiError]) -> dict[str, object]:
    return {
        "type": PROBLEM_TYPE_BASE + kind.slug,
        "title": kind.title,
        "status": kind.status,
        "description": kind.description,
    }


def inline_code(text: str) -> str:
    """The descriptions' `code` spans as <code>, everything escaped."""
    parts = escape(text).split("`")
    return "".join(
        f"<code>{part}</code>" if index % 2 else part for index, part in enumerate(parts)
    )


def status_line(status: int) -> str:
    return f"{status} {HTTPStatus(status).phrase}"


def type_page(kind: type[ApiError]) -> str:
    body = (
        f"<h1>{escape(kind.title)}</h1>\n"
        f"<p>HTTP status <strong>{status_line(kind.status)}</strong>. Problem type "
        f"<code>{PROBLEM_TYPE_BASE}{kind.slug}</code> (RFC 9457).</p>\n"
        f"<p>{inline_code(kind.description)}</p>\n"
        f'<p><a href="{PROBLEM_TYPE_BASE.rstrip("/")}">Every problem type</a></p>'
    )
    return PAGE.format(title=escape(kind.title), body=body)


def index_page(kinds: list[type[ApiError]]) -> str:
    entries = "\n".join(
        f'<dt><a href="{PROBLEM_TYPE_BASE}{kind.slug}">{escape(kind.title)}</a> '
        f"({status_line(kind.status)})</dt><dd>{inline_code(kind.description)}</dd>"
        for kind in kinds
    )
    body = (
        "<h1>Problem types</h1>\n<p>Every error this API answers is an RFC 9457 problem "
        "document whose <code>type</code> is one of these.</p>\n"
        f"<dl>\n{entries}\n</dl>"
    )
    return PAGE.format(title="Problem types", body=body)


def negotiated(request: Request, html: str, data: object) -> Response:
    accept = request.headers.get("accept")
    chosen = best_match(accept, OFFERED) if accept else HTML
    if chosen is None:
        raise not_acceptable(accept or "", OFFERED)
    headers = {"Cache-Control": CACHE_CONTROL, "Vary": "Accept"}
    if chosen == JSON:
        return Response(orjson.dumps(data), headers=headers, media_type=JSON)
    return Response(html, headers=headers, media_type=f"{HTML}; charset=utf-8")


@router.get("/problems")
async def list_problem_types(request: Request) -> Response:
    kinds = sorted(problem_types().values(), key=lambda kind: (kind.status, kind.slug))
    return negotiated(request, index_page(kinds), [document(kind) for kind in kinds])


@router.get("/problems/{slug}")
async def get_problem_type(slug: str, request: Request) -> Response:
    kind = problem_types().get(slug)
    if kind is None:
        raise NotFoundError(f"No problem type {slug[:100]!r}: /problems lists every one.")
    return negotiated(request, type_page(kind), document(kind))
