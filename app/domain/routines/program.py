"""A program a clinician builds: blocks of exercises, each with a dose, and what the rule
checker finds in it (`checker.py`).

The shapes here are the contract of POST /v1/routine-checks and POST /v1/programs: a finding is
the same in a check, in a refused program's 422 and in a stored program.
"""

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.domain.exercise import NoNul, Slug
from app.domain.routines.rules import RuleId, Severity
from app.domain.schema_config import ALWAYS_PRESENT
from app.domain.strict import JsonBool, NumberOnly

MAXIMUM_PROGRAM_ITEMS = 49
"""A program of 50 items or more is refused: no session holds that many, and the checker's
answer stays small."""
MAXIMUM_BLOCKS = 10
EXERCISE_REFERENCE_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*(?:@[1-9][0-9]{0,8})?$"

ExerciseReference = Annotated[
    str,
    StringConstraints(pattern=EXERCISE_REFERENCE_PATTERN, min_length=2, max_length=90),
]
BlockTitle = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80), NoNul
]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), NoNul]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500), NoNul
]
Pointer = Annotated[str, StringConstraints(pattern=r"^(/[^/]*)*$", max_length=200)]


class Dose(BaseModel):
    """How much of one exercise. An aerobic activity takes `minutes`; every other exercise
    takes sets and repetitions (and a hold, where it has one)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sets: Annotated[int, Field(ge=1, le=20), NumberOnly] = 1
    repetitions: Annotated[int, Field(ge=1, le=100), NumberOnly] | None = Field(
        default=None, description="Per set (per side when per_side); 1 when left out."
    )
    hold_seconds: Annotated[int, Field(ge=0, le=600), NumberOnly] | None = None
    minutes: Annotated[int, Field(ge=1, le=90), NumberOnly] | None = Field(
        default=None, description="Only for an aerobic activity: how long to keep going."
    )
    per_side: JsonBool | None = Field(
        default=None, description="Each side in turn; left out, as the cited dosage says."
    )
    rest_seconds: Annotated[int, Field(ge=0, le=600), NumberOnly] = Field(
        default=30, description="Rest between sets."
    )


class ProgramItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    exercise: ExerciseReference = Field(
        description="An exercise slug, optionally `@version` (`cat-cow@3`): a version other than "
        "the published one, or a retired exercise, only when the person already has it in the "
        "routine the program starts from.",
        examples=["double-knee-to-chest"],
    )
    dose: Dose
    notes: Note | None = Field(default=None, description="For the person, shown on the handout.")


class ProgramBlock(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: BlockTitle = Field(examples=["main"])
    items: list[ProgramItem] = Field(min_length=1, max_length=MAXIMUM_PROGRAM_ITEMS)


class Program(BaseModel):
    """Blocks of exercises done in the order given. At most 49 items in all."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    blocks: list[ProgramBlock] = Field(min_length=1, max_length=MAXIMUM_BLOCKS)

    @property
    def item_count(self) -> int:
        return sum(len(block.items) for block in self.blocks)


class Finding(BaseModel):
    """One rule a program breaks, or a note on it (`info`)."""

    model_config = ConfigDict(frozen=True, **ALWAYS_PRESENT)

    rule: RuleId = Field(description="The rule's id in GET /v1/routine-rules.")
    severity: Severity
    pointer: str = Field(
        description="A JSON Pointer (RFC 6901) into the request to what the finding concerns: "
        "an item, its dose, a red flag, or the whole program.",
        examples=["/program/blocks/0/items/0"],
    )
    text: str = Field(description="The sentence shown to people.")
    overridable: bool = Field(
        default=True,
        description="False for an emergency red flag: no override stores a program then.",
    )


class Override(BaseModel):
    """A clinician's reason for keeping what a `block` finding refuses."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: RuleId
    pointer: Pointer = Field(examples=["/program/blocks/0/items/0"])
    reason: Reason = Field(
        description='Why, in words for the person: the handout says "your clinician chose '
        'this because ..."'
    )


def item_pointer(block: int, item: int) -> str:
    return f"/program/blocks/{block}/items/{item}"


def program_of(blocks: Sequence[Mapping[str, Any]]) -> Program:
    """A stored routine's exercises and doses (its `blocks`, as JSON) as a program: where a
    clinician starts from a routine, and how the checker reads a generated one. Each exercise
    keeps the version it was given at."""
    return Program(
        blocks=[
            ProgramBlock(
                name=block["title"],
                items=[
                    ProgramItem(
                        exercise=f"{item['exercise']['slug']}@{item['exercise']['version']}",
                        dose=Dose(
                            sets=item["sets"],
                            repetitions=item["reps"],
                            hold_seconds=item["hold_seconds"],
                            minutes=item["duration_minutes"],
                            per_side=item["per_side"],
                            rest_seconds=item["rest_seconds"],
                        ),
                    )
                    for item in block["items"]
                ],
            )
            for block in blocks
            if block["items"]
        ]
    )


def program_of_document(document: Mapping[str, Any]) -> Program:
    """The program a stored routine holds: a clinician's as stored, a generated one's from its
    blocks."""
    stored = document.get("program")
    if stored is not None:
        return Program.model_validate(stored)
    return program_of(document["blocks"])


class RemoveEdit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    op: Literal["remove"]
    exercise: Slug = Field(description="The exercise to take out (every place it is in).")


class AddEdit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    op: Literal["add"]
    item: ProgramItem
    block: BlockTitle | None = Field(
        default=None,
        description="The block to add it to, by name (a new block at the end when none has "
        "it); left out, the last block.",
    )


class ReplaceEdit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    op: Literal["replace"]
    exercise: Slug = Field(description="The exercise to replace, where it is.")
    item: ProgramItem


class DoseEdit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    op: Literal["dose"]
    exercise: Slug
    dose: Dose = Field(description="Its new dose, whole.")


Edit = Annotated[RemoveEdit | AddEdit | ReplaceEdit | DoseEdit, Field(discriminator="op")]
EditPath = tuple[str | int, ...]


class FromRoutine(BaseModel):
    """A stored routine (generated, or a clinician's) and the edits that make the program."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(max_length=36, examples=["5f0c6a4e-8a7b-4e0f-9a55-2f7f1e0c9d31"])
    edits: list[Edit] = Field(default_factory=list, max_length=MAXIMUM_PROGRAM_ITEMS * 2)


def edited(program: Program, edits: Sequence[Edit]) -> tuple[Program, list[tuple[EditPath, str]]]:
    """The program after each edit in turn, and where an edit names an exercise the program
    does not hold (a path from the request's root, and why)."""
    blocks = [(block.name, list(block.items)) for block in program.blocks]
    errors: list[tuple[EditPath, str]] = []
    for index, edit in enumerate(edits):
        path: EditPath = ("from_routine", "edits", index)
        if isinstance(edit, AddEdit):
            add(blocks, edit)
            continue
        places = [
            (b, i)
            for b, (_name, items) in enumerate(blocks)
            for i, item in enumerate(items)
            if item.exercise.partition("@")[0] == edit.exercise
        ]
        if not places:
            errors.append(((*path, "exercise"), f"The program has no {edit.exercise!r}."))
            continue
        for b, i in reversed(places):
            items = blocks[b][1]
            if isinstance(edit, RemoveEdit):
                del items[i]
            elif isinstance(edit, ReplaceEdit):
                items[i] = edit.item
            else:
                items[i] = items[i].model_copy(update={"dose": edit.dose})
    kept = [ProgramBlock(name=name, items=items) for name, items in blocks if items]
    if not kept:
        errors.append((("from_routine", "edits"), "The edits leave no exercise in the program."))
        return program, errors
    return Program(blocks=kept), errors


def add(blocks: list[tuple[str, list[ProgramItem]]], edit: AddEdit) -> None:
    if edit.block is None and blocks:
        blocks[-1][1].append(edit.item)
        return
    for name, items in blocks:
        if name == edit.block:
            items.append(edit.item)
            return
    blocks.append((edit.block or "main", [edit.item]))
