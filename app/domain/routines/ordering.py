"""Blocks in a fixed order and, inside each, as few changes of position as possible.

Within a block, exercises done in the same position are kept together, and positions at the same
height (the floor, upright, the water) are kept together, so the person gets down once and up
once. A block starts where the previous one ended when it can. Ties keep selection order, which is
where the seed's variation shows.
"""

from collections.abc import Sequence

from app.domain.exercise import Exercise
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


def block_for(exercise: Exercise) -> BlockName:
    return CATEGORY_BLOCKS[exercise.category]


def order_routine(prescriptions: Sequence[Prescription]) -> OrderedBlocks:
    ordered: OrderedBlocks = []
    previous: Position | None = None
    for block in BlockName:
        members = [item for item in prescriptions if item.block is block]
        if members:
            arranged = order_block(members, previous)
            ordered.append((block, arranged))
            previous = arranged[-1].position
    return ordered


def flatten(blocks: OrderedBlocks) -> list[Prescription]:
    return [item for _block, items in blocks for item in items]


def order_block(members: list[Prescription], previous: Position | None) -> list[Prescription]:
    """The indicated exercise opens its block; otherwise start in the previous position."""
    indicated = [item for item in members if item.indicated]
    start = indicated[0].position if indicated else previous
    positions = _position_sequence([item.position for item in members], start)
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
