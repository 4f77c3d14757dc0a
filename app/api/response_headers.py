"""Response headers as the contract declares them (OpenAPI Header Objects), defined once and
named by the routes that send them. `required` says the header is on every such response, which
schemathesis then checks; the caching headers are declared for every operation by
`app.api.http_cache.document_caching`."""

from typing import Any


def header(
    description: str, example: str | None = None, *, required: bool = False
) -> dict[str, Any]:
    declared: dict[str, Any] = {"description": description, "schema": {"type": "string"}}
    if example is not None:
        declared["example"] = example
    if required:
        declared["required"] = True
    return declared


def next_link(example_url: str) -> dict[str, Any]:
    return header(
        'The next page, when there is one (RFC 8288): `<URL>; rel="next"`, the URL carrying '
        "`next_cursor`.",
        f'<{example_url}>; rel="next"',
    )


def location(description: str, example: str, *, required: bool = True) -> dict[str, Any]:
    return header(description, example, required=required)


IDEMPOTENT_REPLAYED = header(
    "`true` when this answer replays the routine an earlier request with the same "
    "Idempotency-Key created; absent otherwise.",
    "true",
)


RATE_LIMIT_HEADERS = {
    "RateLimit-Policy": header(
        "The client's budget for this kind of request (IETF RateLimit header fields): the "
        "policy's name, its quota `q` and window `w` in seconds. Sent on every answer to a "
        "request the budget counted, a 429 included (`routine-writes`: routine creation and "
        "feedback; `renders`: a handout's PDF rendered, not one served from the cache nor a "
        "page; `media-uploads`: an image attached), while the limiter's storage answers.",
        '"routine-writes";q=60;w=60',
    ),
    "RateLimit": header(
        "What is left of that budget: `r` requests, until the window moves on in `t` seconds.",
        '"routine-writes";r=59;t=60',
    ),
}
"""Declared on every answer of a rate-limited operation (`app.api.contract`), whatever its
status."""
