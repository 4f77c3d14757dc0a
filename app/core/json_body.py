"""JSON request bodies parsed once, with every object's keys distinct.

RFC 8259 leaves a repeated name's meaning to the parser: most keep the last, some the first, so
`{"minutes": 20, "minutes": 90}` could mean one thing to a proxy or a log and another here. A body
that repeats a key in any object is refused (400), pointing at the repeated member.
"""

import json
from typing import Any

from app.core.errors import ApiError, FieldError, MalformedBodyError, json_pointer, malformed_body


class _RepeatedKeyError(Exception):
    pass


def _distinct(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        raise _RepeatedKeyError
    return document


DISTINCT_KEYS = json.JSONDecoder(object_pairs_hook=_distinct)


def load_json(body: bytes) -> Any:
    """The body as JSON. Raises ValueError (json.JSONDecodeError, UnicodeDecodeError) for a body
    that is not JSON, and a 400 ApiError naming the first repeated key (or for nesting deeper
    than Python's recursion allows). Read as `json.loads` reads bytes, with one decoder made
    once rather than one per body."""
    try:
        return DISTINCT_KEYS.decode(body.decode(json.detect_encoding(body), "surrogatepass"))
    except _RepeatedKeyError:
        raise repeated_key(body) from None
    except RecursionError:
        raise malformed_body("The body nests arrays and objects too deeply to be read.") from None


REPEATED = "\x00repeated"
"""Marks, on the error path only, the object that repeats a key (no JSON key holds NUL: bodies
with NUL are refused before they are parsed)."""


def _marking(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                document[REPEATED] = key
                break
            seen.add(key)
    return document


def _path_to_repeat(node: Any, path: list[str | int]) -> list[str | int] | None:
    if isinstance(node, dict):
        if REPEATED in node:
            return [*path, node[REPEATED]]
        children: Any = node.items()
    elif isinstance(node, list):
        children = enumerate(node)
    else:
        return None
    for key, child in children:
        found = _path_to_repeat(child, [*path, key])
        if found is not None:
            return found
    return None


def repeated_key(body: bytes) -> ApiError:
    path = _path_to_repeat(json.loads(body, object_pairs_hook=_marking), []) or []
    field = ".".join(str(part) for part in path) or "body"
    named = f"the key {str(path[-1])!r}" if path else "a key"
    return MalformedBodyError(
        f"The body repeats {named} in one object: each key may appear once.",
        [
            FieldError(
                location="body",
                field=field,
                pointer=json_pointer(path),
                message="this key appears more than once in its object",
            )
        ],
    )
