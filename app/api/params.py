"""Parameters and media types every router shares, each defined once."""

from typing import Annotated

from fastapi import Path, Query

from app.core import cursors
from app.domain.exercise import SLUG_MAX_LENGTH

JSON = "application/json"

SlugPath = Annotated[str, Path(max_length=SLUG_MAX_LENGTH, examples=["cat-stretch"])]
"""An exercise's slug in a path. Its pattern is not checked here: an unknown slug is a 404."""

CursorQuery = Annotated[
    str | None,
    Query(
        max_length=cursors.MAX_LENGTH,
        pattern=cursors.PATTERN,
        description="`next_cursor` from the previous page, with the same filters.",
    ),
]
"""The cursor of a paged list (app.core.cursors): signed, and bound to the other filters."""
