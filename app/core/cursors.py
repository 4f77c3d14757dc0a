"""Paging cursors: opaque, signed, and bound to the query they page.

A cursor holds where its page ended and a digest of the query's filters (everything but the
cursor and the page size, normalised: a set of values in any order is the same set). It is signed
by itsdangerous with CURSOR_SECRET, so a cursor this API did not issue, or one sent with other
filters than those it was issued for, is a 400 naming the parameter rather than a page of
something else. Several processes or replicas serving one API must share the secret.
"""

import dataclasses
import functools
import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from itsdangerous import BadSignature, Signer
from itsdangerous.encoding import base64_decode, base64_encode

from app.core.errors import FieldError, InvalidParameterError

SALT = "backcare-cursor"
PATTERN = r"^[A-Za-z0-9_.-]+$"
"""What itsdangerous's URL-safe tokens are made of."""
MAX_LENGTH = 400

Position = TypeVar("Position")


def _sorted_set(value: Any) -> Any:
    """orjson's fallback: a set is the same set in any order."""
    if isinstance(value, frozenset | set):
        return sorted(value, key=repr)
    raise TypeError(f"{type(value).__name__} is not JSON")


def filters_of(query: Any, *paging: str) -> dict[str, Any]:
    """A query dataclass's filters: every field but the paging ones (position, page size)."""
    return {name: getattr(query, name) for name in _filter_names(query.__class__, paging)}


@functools.cache
def _filter_names(query_type: Any, paging: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(query_type) if f.name not in paging)


def scope_of(filters: Any) -> str:
    """What a cursor is bound to: a digest of the query's filters, normalised (sets in any order
    are one set), computed once per request for reading a cursor and issuing the next."""
    canonical = orjson.dumps(filters, default=_sorted_set, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(canonical, digest_size=8).hexdigest()


class Cursors:
    """Issues and reads the cursors of every paged endpoint: `base64(JSON [position, scope])`
    signed by an itsdangerous Signer. One per process, its salted key derived once."""

    def __init__(self, secret: str) -> None:
        key = Signer(secret, salt=SALT).derive_key()
        self._signer = Signer(key, key_derivation="none")

    def issue(self, position: Any, scope: str) -> str:
        """A cursor for the page after `position` (JSON data) of the query `scope` names."""
        return self._signer.sign(base64_encode(orjson.dumps([position, scope]))).decode()

    def read(
        self,
        cursor: str,
        scope: str,
        parse: Callable[[Any], Position],
        parameter: str = "cursor",
    ) -> Position:
        """The position `cursor` holds, through `parse` (which raises ValueError, TypeError or
        KeyError on a shape it does not expect). 400 for a cursor not issued here, or issued for
        other filters."""
        try:
            position, issued_for = orjson.loads(base64_decode(self._signer.unsign(cursor)))
            parsed = parse(position)
        except (BadSignature, ValueError, TypeError, KeyError):
            raise InvalidParameterError(
                "The cursor is not one this API issued. Start again without a cursor.",
                [FieldError(location="query", field=parameter, message="invalid cursor")],
            ) from None
        if issued_for != scope:
            raise InvalidParameterError(
                "The cursor was issued for other filters. Follow the next link as given, or "
                "start again without a cursor.",
                [FieldError(location="query", field=parameter, message="cursor of another query")],
            )
        return parsed


def slug_position(position: Any) -> str:
    """A page that ended at a slug (or another string id)."""
    if not isinstance(position, str):
        raise TypeError("a slug position is a string")
    return position
