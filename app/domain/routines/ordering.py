"""Blocks in a fixed order and, inside each, as few changes of position as possible.

Within a block, exercises done in the same position are kept together, and positions at the same
height (the floor, upright, the water) are kept together, so the person gets down once and up
once. Across blocks, aerobic work aside, the floor work is kept in one stretch: the first block
with floor work ends on the floor, the last one starts there, so the session goes down to the
floor once when the blocks allow it (`limits.py` keeps out what would make it go down twice).
Otherwise a block starts where the previous one ended when it can. The indicated exercise opens
its block. Ties keep selection order, which is where the seed's variation shows.
"""

from collections.abc import Sequence
from typing import Protocol

from app.domain.routines.model import BlockName
from app.domain.routines.prescription import Prescription
from app.domain.routines.timing import height_of
from app.domain.vocabulary import Category, Position

CATEGORY_BLOCKS: dict[Category, BlockName] = {
    Category.range_of_motion: BlockName.warm_up,
    Category.stretch: BlockName.mobility,
    Category.strengthening: BlockName.strength,
    Category.stabilisation: BlockName.strength,
    Category.aerobic: BlockName.aerobic,
}

OrderedBlocks = list[tuple[BlockName, list[Prescription]]]


class Categorised(Protocol):
    @property
    def category(self) -> Category: ...


def block_for(exercise: Categorised) -> BlockName:
    """The block an exercise (a model or a snapshot's entry) goes in, by its category."""
    return CATEGORY_BLOCKS[exercise.category]


def order_routine(prescriptions: Sequence[Prescription]) -> OrderedBlocks:
    blocks = [
        (block, [item for item in prescriptions if item.block is block]) for block in BlockName
    ]
    present = [(block, members) for block, members in blocks if members]
    on_floor = [
        index
        for index, (block, members) in enumerate(present)
        if block is not BlockName.aerobic and any(is_floor(item.position) for item in members)
    ]
    ordered: OrderedBlocks = []
    previous: Position | None = None
    for index, (block, members) in enumerate(present):
        floor_at: str | None = None
        if on_floor and block is not BlockName.aerobic and on_floor[0] != on_floor[-1]:
            if index == on_floor[0]:
                floor_at = "last"
            elif on_floor[0] < index <= on_floor[-1]:
                floor_at = "first"
        arranged = order_block(members, previous, floor_at)
        ordered.append((block, arranged))
        previous = arranged[-1].position
    return ordered


def is_floor(position: Position) -> bool:
    return height_of(position) == "floor"


def flatten(blocks: OrderedBlocks) -> list[Prescription]:
    return [item for _block, items in blocks for item in items]


def order_block(
    members: list[Prescription], previous: Position | None, floor_at: str | None = None
) -> list[Prescription]:
    """The indicated exercise opens its block; else the floor work goes where `floor_at` says
    ("first" or "last"), else the block starts in the previous position."""
    indicated = [item for item in members if item.indicated]
    start = indicated[0].position if indicated else previous
    positions = _position_sequence([item.position for item in members], start)
    if not indicated and floor_at is not None:
        floor_first = floor_at == "first"
        positions.sort(key=lambda position: is_floor(position) != floor_first)
    return sorted(members, key=lambda item: (positions.index(item.position), not item.indicated))


def _position_sequence(positions: list[Position], start: Position | None) -> list[Position]:
    """Distinct positions grouped by height, beginning at `start` (or its height) when present."""
    distinct = list(dict.fromkeys(positions))
    heights = list(dict.fromkeys(height_of(position) for position in distinct))
    if start is not None and height_of(start) in heights:
        heights.remove(height_of(start))
        heights.insert(0, height_of(start))
    if start in distinct:
        distinct.remove(start)
        distinct.insert(0, start)
    return [
        position for height in heights for position in distinct if height_of(position) == height
    ]
