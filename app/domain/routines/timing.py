"""How long a routine takes: every timing assumption of the engine lives here.

An exercise takes sets x sides x reps x (movement + hold), plus rest between sets. A routine adds
the time to change position between consecutive exercises; getting down to or up from the floor
(or into or out of water) costs more than rolling over on the floor.
"""

import math
from collections.abc import Sequence
from itertools import pairwise

from app.domain.vocabulary import Position

SECONDS_PER_REPETITION = 4
"""Moving into and out of one repetition, on top of any hold."""

REST_BETWEEN_SETS_SECONDS = 30

POSITION_CHANGE_SECONDS = 15
"""Changing position at the same height, for example from lying on the back to the stomach."""

GROUND_TRANSFER_SECONDS = 30
"""Getting down to or up from the floor (or bed), or into or out of the water."""

SIDES_WHEN_PER_SIDE = 2

FLOOR_POSITIONS: frozenset[Position] = frozenset(
    {
        Position.supine,
        Position.prone,
        Position.hands_and_knees,
        Position.half_kneeling,
        Position.long_sitting,
    }
)
UPRIGHT_POSITIONS: frozenset[Position] = frozenset({Position.seated, Position.standing})


def height_of(position: Position) -> str:
    """Positions at one height can be changed between without getting up or down."""
    if position in FLOOR_POSITIONS:
        return "floor"
    if position in UPRIGHT_POSITIONS:
        return "upright"
    return "water"


def exercise_seconds(
    *,
    sets: int,
    reps: int,
    hold_seconds: int,
    per_side: bool,
    rest_seconds: int = REST_BETWEEN_SETS_SECONDS,
) -> int:
    sides = SIDES_WHEN_PER_SIDE if per_side else 1
    work = sets * sides * reps * (SECONDS_PER_REPETITION + hold_seconds)
    return work + (sets - 1) * rest_seconds


def aerobic_seconds(duration_minutes: int) -> int:
    return duration_minutes * 60


def transition_seconds(previous: Position, following: Position) -> int:
    if previous is following:
        return 0
    if height_of(previous) == height_of(following):
        return POSITION_CHANGE_SECONDS
    return GROUND_TRANSFER_SECONDS


def routine_seconds(item_seconds: Sequence[int], positions: Sequence[Position]) -> int:
    """Items in the order done, with the position each is done in."""
    changes = sum(
        transition_seconds(previous, following) for previous, following in pairwise(positions)
    )
    return sum(item_seconds) + changes


def whole_minutes(seconds: int) -> int:
    return math.ceil(seconds / 60)
