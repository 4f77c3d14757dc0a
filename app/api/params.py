"""Parameters and media types every router shares, each defined once."""

from typing import Annotated

from fastapi import Path

from app.domain.exercise import SLUG_MAX_LENGTH

JSON = "application/json"

SlugPath = Annotated[str, Path(max_length=SLUG_MAX_LENGTH, examples=["cat-stretch"])]
"""An exercise's slug in a path. Its pattern is not checked here: an unknown slug is a 404."""
