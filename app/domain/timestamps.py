"""Timestamps as the API writes them: RFC 3339 in UTC, ending in `Z`, everywhere.

`rfc3339` formats one; `UtcTimestamp` is a datetime field that pydantic writes the same way, so a
body built by hand (routines, feedback) and one serialised by a model (audit, purge) agree.
"""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import PlainSerializer, WithJsonSchema


def rfc3339(moment: datetime) -> str:
    """`2026-11-29T13:28:38.933400Z`: converted to UTC, always with microseconds, so the
    strings sort as the moments do. A naive datetime is refused: its zone is unknown."""
    if moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone")
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


UtcTimestamp = Annotated[
    datetime,
    PlainSerializer(rfc3339, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""A datetime field written as `rfc3339` writes it."""
