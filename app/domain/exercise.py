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

from app.domain.figure.model import Figure
from app.domain.schema_config import ALWAYS_PRESENT
from app.domain.strict import JsonBool, NumberOnly
from app.domain.vocabulary import (
    Category,
    Equipment,
    Flag,
    ImageType,
    Impact,
    Level,
    License,
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

MAX_ITEMS = {
    "aliases": 10,
    "target_areas": len(TargetArea),
    "equipment": len(Equipment),
    "optional_equipment": len(Equipment),
    "steps": 20,
    "dosages": 10,
    "contraindications": 10,
    "indications": 10,
    "cautions": 10,
    "variants": 10,
    "citations": 10,
    "progressions.easier": 10,
    "progressions.harder": 10,
    "media": 12,
}
"""The most items each list of an exercise may hold (a seeded exercise has at most 8 steps). With
each text capped too, no exercise, and so no routine or handout made from it, can grow without
bound: 500 steps once made every routine a megabyte and its PDF 209 pages."""
MAX_TEXT_CHARACTERS = 30_000
"""The most text one exercise may hold, all its texts together (a seeded one holds under 3,000)."""

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
    easier: list[Slug] = Field(default_factory=list, max_length=MAX_ITEMS["progressions.easier"])
    harder: list[Slug] = Field(default_factory=list, max_length=MAX_ITEMS["progressions.harder"])


class ProgressionsOut(Progressions):
    model_config = ALWAYS_PRESENT


class Citation(Record):
    source: Slug
    note: Text | None = None


MEDIA_ID_PATTERN = r"^[0-9a-f]{12}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"
HttpUrl = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, pattern=r"^https?://[^\s/?#]+[^\s]*$", max_length=2000
    ),
    NoNul,
]
AltText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000), NoNul
]


class Attribution(Record):
    """What an editor says of an image they attach: its licence, its author, where it came
    from, and the words for people who cannot see it. All required."""

    license: License = Field(description="An SPDX licence id from the allowed list.")
    author: ShortText = Field(description="Who made the image, as its licence asks to name them.")
    source_url: HttpUrl = Field(description="Where the image was found (http or https).")
    alt: AltText = Field(description="Text for the image, for people who cannot see it.")


class Media(Attribution):
    """An image an editor attached to the exercise: the file as it was re-encoded and stored
    (named by its content hash) and its attribution. Only the media endpoints write these."""

    id: Annotated[str, StringConstraints(pattern=MEDIA_ID_PATTERN)] = Field(
        description="The first 12 hex digits of `sha256`: unique within the exercise."
    )
    sha256: Annotated[str, StringConstraints(pattern=SHA256_PATTERN)] = Field(
        description="SHA-256 of the stored (re-encoded) file, which names its URL."
    )
    content_type: ImageType
    width: Annotated[int, Field(ge=1, le=100_000), NumberOnly]
    height: Annotated[int, Field(ge=1, le=100_000), NumberOnly]
    byte_size: Annotated[int, Field(ge=1), NumberOnly] = Field(
        description="The stored file's length in bytes."
    )


class ExerciseFields(Record):
    """Every field of an exercise but its citations, whose shape differs between content and the
    public record (which expands each cited source)."""

    slug: Slug
    name: ShortText
    aliases: list[ShortText] = Field(default_factory=list, max_length=MAX_ITEMS["aliases"])
    summary: Text
    category: Category
    level: Level
    level_rationale: Text
    position: Position
    spinal_motion: SpinalMotion
    target_areas: list[TargetArea] = Field(min_length=1, max_length=MAX_ITEMS["target_areas"])
    equipment: list[Equipment] = Field(
        default_factory=list,
        max_length=MAX_ITEMS["equipment"],
        description="What the exercise cannot be done without.",
    )
    optional_equipment: list[Equipment] = Field(
        default_factory=list,
        max_length=MAX_ITEMS["optional_equipment"],
        description="What helps but is not required (a mat, a pillow).",
    )
    steps: list[Text] = Field(min_length=1, max_length=MAX_ITEMS["steps"])
    dosages: list[Dosage] = Field(min_length=1, max_length=MAX_ITEMS["dosages"])
    contraindications: list[Contraindication] = Field(
        default_factory=list, max_length=MAX_ITEMS["contraindications"]
    )
    indications: list[Text] = Field(default_factory=list, max_length=MAX_ITEMS["indications"])
    cautions: list[Text] = Field(default_factory=list, max_length=MAX_ITEMS["cautions"])
    bed_friendly: JsonBool = False
    needs_helper: JsonBool = False
    tensions_sciatic_nerve: JsonBool = False
    impact: Impact = Impact.low
    progressions: Progressions = Field(default_factory=Progressions)
    variants: list[Slug] = Field(default_factory=list, max_length=MAX_ITEMS["variants"])
    status: Status = Status.published
    figure: Figure | None = Field(
        default=None,
        description="The key frames its illustrations are drawn from: poses on a surface, "
        "each showing one step.",
    )
    media: list[Media] = Field(
        default_factory=list,
        max_length=MAX_ITEMS["media"],
        description="Images editors attached, each with its licence, author, source and alt "
        "text. Read-only in an exercise's writes: attached and removed through "
        "/v1/exercises/{slug}/media.",
    )

    @model_validator(mode="after")
    def _figure_shows_its_steps(self) -> "ExerciseFields":
        if self.figure is None:
            return self
        for frame in self.figure.frames:
            if frame.step > len(self.steps):
                raise ValueError(
                    f"frame {frame.name!r} shows step {frame.step}, but there are "
                    f"{len(self.steps)} steps"
                )
        if self.per_side and not any(frame.side for frame in self.figure.frames):
            raise ValueError("an exercise done on each side must show the side in a frame")
        return self

    @property
    def per_side(self) -> bool:
        return any(dosage.per_side for dosage in self.dosages)

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
    citations: list[Citation] = Field(min_length=1, max_length=MAX_ITEMS["citations"])

    @model_validator(mode="after")
    def _text_is_bounded(self) -> "Exercise":
        total = text_characters(self)
        if total > MAX_TEXT_CHARACTERS:
            raise ValueError(
                f"the exercise holds {total:,} characters of text, over the limit of "
                f"{MAX_TEXT_CHARACTERS:,} for one exercise"
            )
        return self

    @property
    def cited_sources(self) -> list[str]:
        return list(
            dict.fromkeys([c.source for c in self.citations] + [d.source for d in self.dosages])
        )


def text_characters(exercise: Exercise) -> int:
    """All the text one exercise holds, in characters."""
    texts = [exercise.name, exercise.summary, exercise.level_rationale, *exercise.aliases]
    texts += [*exercise.steps, *exercise.indications, *exercise.cautions]
    texts += [item.reason for item in exercise.contraindications]
    texts += [text for d in exercise.dosages for text in (d.frequency, d.notes) if text]
    texts += [citation.note for citation in exercise.citations if citation.note]
    return sum(len(text) for text in texts)
