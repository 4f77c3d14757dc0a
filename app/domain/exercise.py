"""The exercise record and its parts: one set of field rules for seed files, writes and import."""

from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from app.domain.schema_config import ALWAYS_PRESENT
from app.domain.strict import JsonBool, NumberOnly
from app.domain.vocabulary import (
    Category,
    Equipment,
    Flag,
    Impact,
    Level,
    Position,
    PublisherKind,
    SpinalMotion,
    Status,
    TargetArea,
)


def without_nul(text: str) -> str:
    """PostgreSQL cannot store NUL in text and SQLite would: refuse it on both, in every way
    content arrives (JSON escapes it as \\u0000, YAML as "\\0")."""
    if "\x00" in text:
        raise ValueError("NUL characters are not accepted")
    return text


NoNul = AfterValidator(without_nul)
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SLUG_MAX_LENGTH = 80
Slug = Annotated[
    str, StringConstraints(pattern=SLUG_PATTERN, min_length=2, max_length=SLUG_MAX_LENGTH)
]
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), NoNul
]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoNul
]

MOTION_FLAGS: dict[SpinalMotion, Flag] = {
    SpinalMotion.flexion: Flag.flexion_sensitive,
    SpinalMotion.extension: Flag.extension_sensitive,
}
"""The flag an exercise must carry because of the way it moves the spine."""


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Record):
    id: Slug
    title: ShortText
    publisher_kind: PublisherKind
    seed_file: ShortText
    author: ShortText | None = None
    notes: Text | None = None


class Dosage(Record):
    """One cited prescription. A hold range (5-10 s) keeps its upper end in hold_seconds_max."""

    source: Slug
    sets: Annotated[int, Field(ge=1, le=20), NumberOnly] | None = None
    reps: Annotated[int, Field(ge=1, le=100), NumberOnly] | None = None
    hold_seconds: Annotated[int, Field(ge=0, le=600), NumberOnly] | None = None
    hold_seconds_max: Annotated[int, Field(ge=0, le=600), NumberOnly] | None = None
    per_side: JsonBool = False
    duration_minutes: Annotated[int, Field(ge=1, le=180), NumberOnly] | None = None
    frequency: Text | None = None
    notes: Text | None = None

    @model_validator(mode="after")
    def _hold_range_is_ordered(self) -> "Dosage":
        if self.hold_seconds_max is not None and (
            self.hold_seconds is None or self.hold_seconds_max < self.hold_seconds
        ):
            raise ValueError("hold_seconds_max needs hold_seconds and must not be below it")
        return self


class DosageOut(Dosage):
    """A dosage as the API writes it: every field, null where the source gives no figure."""

    model_config = ALWAYS_PRESENT


class Contraindication(Record):
    flag: Flag
    reason: Text


class Progressions(Record):
    easier: list[Slug] = Field(default_factory=list)
    harder: list[Slug] = Field(default_factory=list)


class ProgressionsOut(Progressions):
    model_config = ALWAYS_PRESENT


class Citation(Record):
    source: Slug
    note: Text | None = None


class ExerciseFields(Record):
    """Every field of an exercise but its citations, whose shape differs between content and the
    public record (which expands each cited source)."""

    slug: Slug
    name: ShortText
    aliases: list[ShortText] = Field(default_factory=list)
    summary: Text
    category: Category
    level: Level
    level_rationale: Text
    position: Position
    spinal_motion: SpinalMotion
    target_areas: list[TargetArea] = Field(min_length=1)
    equipment: list[Equipment] = Field(
        default_factory=list, description="What the exercise cannot be done without."
    )
    optional_equipment: list[Equipment] = Field(
        default_factory=list, description="What helps but is not required (a mat, a pillow)."
    )
    steps: list[Text] = Field(min_length=1)
    dosages: list[Dosage] = Field(min_length=1)
    contraindications: list[Contraindication] = Field(default_factory=list)
    indications: list[Text] = Field(default_factory=list)
    cautions: list[Text] = Field(default_factory=list)
    bed_friendly: JsonBool = False
    needs_helper: JsonBool = False
    tensions_sciatic_nerve: JsonBool = False
    impact: Impact = Impact.low
    progressions: Progressions = Field(default_factory=Progressions)
    variants: list[Slug] = Field(default_factory=list)
    status: Status = Status.published

    @model_validator(mode="after")
    def _motion_carries_its_flag(self) -> "ExerciseFields":
        required = MOTION_FLAGS.get(self.spinal_motion)
        if required is not None and required not in self.contraindicated_for:
            raise ValueError(
                f"a {self.spinal_motion.value} exercise must list the {required.value} "
                "contraindication"
            )
        return self

    @property
    def contraindicated_for(self) -> frozenset[Flag]:
        return frozenset(item.flag for item in self.contraindications)


class Exercise(ExerciseFields):
    citations: list[Citation] = Field(min_length=1)

    @property
    def cited_sources(self) -> list[str]:
        return list(
            dict.fromkeys([c.source for c in self.citations] + [d.source for d in self.dosages])
        )
