"""Response shapes, for the OpenAPI contract. Hot endpoints write ready JSON bytes instead of
validating through these models per request; tests check the bytes against these schemas."""

from pydantic import BaseModel, Field

from app.domain.exercise import Contraindication, ExerciseFields, Slug
from app.domain.vocabulary import (
    Category,
    Equipment,
    Flag,
    Level,
    Position,
    PublisherKind,
    SpinalMotion,
    TargetArea,
)


class ExerciseSummary(BaseModel):
    slug: Slug = Field(examples=["cat-stretch"])
    name: str = Field(examples=["Cat stretch"])
    aliases: list[str]
    summary: str
    category: Category
    level: Level
    position: Position
    spinal_motion: SpinalMotion
    target_areas: list[TargetArea]
    equipment: list[Equipment] = Field(description="What the exercise cannot be done without.")
    contraindications: list[Contraindication]
    bed_friendly: bool
    needs_helper: bool


class ExercisePage(BaseModel):
    items: list[ExerciseSummary]
    next_cursor: str | None = Field(
        description="Opaque; pass it back as `cursor` for the next page. Null on the last page."
    )


class CitationOut(BaseModel):
    source: Slug = Field(examples=["back-injury-rehabilitation"])
    title: str
    publisher_kind: PublisherKind
    seed_file: str
    note: str | None


class ExerciseDetail(ExerciseFields):
    citations: list[CitationOut]
    version: int = Field(ge=1, description="Increases with every change to the exercise.")


class ProgressionChain(BaseModel):
    slug: Slug = Field(description="The exercise asked about.")
    items: list[ExerciseSummary] = Field(description="The linked chain, easiest first.")


class TermOut(BaseModel):
    slug: str = Field(examples=["lower_back"])
    name: str = Field(examples=["Lower back"])
    exercise_count: int = Field(ge=0, description="Published exercises that use the term.")


class TermList(BaseModel):
    items: list[TermOut]


class LevelOut(BaseModel):
    slug: Level
    name: str
    rank: int = Field(ge=0, description="0 is the easiest.")
    description: str
    when_to_move_up: str
    exercise_count: int = Field(ge=0)


class LevelList(BaseModel):
    items: list[LevelOut]


class FlagOut(BaseModel):
    slug: Flag
    name: str
    explanation: str
    excluded_motions: list[SpinalMotion]
    indicated_motion: SpinalMotion
    evidence: str
    exercise_count: int = Field(ge=0, description="Published exercises contraindicated for it.")


class FlagList(BaseModel):
    items: list[FlagOut]


class SourceOut(BaseModel):
    id: Slug
    title: str
    publisher_kind: PublisherKind
    seed_file: str
    author: str | None
    notes: str | None
    exercise_count: int = Field(ge=0)


class SourceList(BaseModel):
    items: list[SourceOut]


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class Readiness(BaseModel):
    status: str = Field(examples=["ready"])
    database: str = Field(examples=["reachable"])
    migration: str | None = Field(examples=["0001"])
    catalogue_revision: int
