"""Response shapes, for the OpenAPI contract. Hot endpoints write ready JSON bytes instead of
validating through these models per request; tests check the bytes against these schemas."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.domain.exercise import (
    Contraindication,
    DosageOut,
    ExerciseFields,
    Media,
    ProgressionsOut,
    Slug,
)
from app.domain.figure.model import Figure, Frame, Pose, Reach
from app.domain.schema_config import ALWAYS_PRESENT
from app.domain.timestamps import UtcTimestamp
from app.domain.vocabulary import (
    Category,
    Equipment,
    Flag,
    Level,
    Position,
    PublisherKind,
    SpinalMotion,
    Status,
    SyncChange,
    TargetArea,
)

SUMMARY_EXAMPLE: dict[str, Any] = {
    "slug": "prone-back-extension",
    "name": "Prone back extension",
    "aliases": ["Back extension"],
    "summary": "Lying face down, lift onto the elbows and then straighter arms, arching gently.",
    "category": "stretch",
    "level": "beginner",
    "position": "prone",
    "spinal_motion": "extension",
    "target_areas": ["lower_back", "abdominals"],
    "equipment": [],
    "contraindications": [
        {"flag": "extension_sensitive", "reason": "Bends the lower back backwards."}
    ],
    "bed_friendly": False,
    "needs_helper": False,
    "illustrations": [
        {
            "frame": "start",
            "step": 1,
            "alt": "Prone back extension: start. Step 1: Lie face down on the floor.",
            "svg_url": "/v1/exercises/prone-back-extension/illustrations/start.svg?v=1",
            "png_url": "/v1/exercises/prone-back-extension/illustrations/start.png?v=1",
            "png_2x_url": "/v1/exercises/prone-back-extension/illustrations/start@2x.png?v=1",
        }
    ],
}


CURSOR_EXAMPLE = (
    "WyJwcm9uZS1iYWNrLWV4dGVuc2lvbiIsIjhiZWM5NzljMjYxOTg3M2IiXQ.6F4bo_tZDTnYJhmpHsgAkfrWML8"
)
"""A cursor as the API issues them: signed, so this one is refused by any server but its own."""


def examples(*values: Any) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(values)})


class IllustrationLink(BaseModel):
    """One picture of the exercise: a key frame of its figure, showing one step."""

    frame: str = Field(examples=["start"], description="The frame's name within the exercise.")
    step: int = Field(ge=1, description="The step it shows, counted from 1.")
    alt: str = Field(description="Text for the picture, for people who cannot see it.")
    svg_url: str = Field(
        description="The SVG. Carries the exercise's version, so it never changes: cache it."
    )
    png_url: str = Field(description="A PNG, 320 pixels wide.")
    png_2x_url: str = Field(description="A PNG at twice the size, for dense screens.")


MEDIA_EXAMPLE: dict[str, Any] = {
    "license": "CC-BY-4.0",
    "author": "A. Physio",
    "source_url": "https://commons.wikimedia.org/wiki/File:Cat_stretch.jpg",
    "alt": "A woman on hands and knees rounding her back.",
    "id": "9f86d081884c",
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "content_type": "image/jpeg",
    "width": 1600,
    "height": 1200,
    "byte_size": 182034,
    "url": "/v1/media/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.jpg",
    "thumbnail_url": "/v1/media/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    "/thumbnail.jpg",
}


class MediaRecord(Media):
    """An image an editor attached, with the URLs of its file and thumbnail."""

    model_config = ConfigDict(**examples(MEDIA_EXAMPLE), **ALWAYS_PRESENT)

    url: str = Field(
        description="The file, named by its SHA-256: it never changes, cache it for good."
    )
    thumbnail_url: str = Field(description="The file scaled down, in the same format.")


class MediaList(BaseModel):
    slug: Slug = Field(examples=["cat-stretch"])
    version: int = Field(ge=1, description="The exercise's version (also the ETag).")
    items: list[MediaRecord]


class IllustrationList(BaseModel):
    slug: Slug = Field(examples=["prone-back-extension"])
    version: int = Field(ge=1, description="The exercise's version, which the URLs carry.")
    items: list[IllustrationLink]


class ExerciseSummary(BaseModel):
    model_config = examples(SUMMARY_EXAMPLE)

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
    illustrations: list[IllustrationLink] = Field(
        description="The exercise drawn, one picture per key frame (start, end...)."
    )


class ExercisePage(BaseModel):
    model_config = examples({"items": [SUMMARY_EXAMPLE], "next_cursor": CURSOR_EXAMPLE})

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


DETAIL_EXAMPLE: dict[str, Any] = {
    **SUMMARY_EXAMPLE,
    "level_rationale": "One exercise that goes only as far as is comfortable.",
    "optional_equipment": [],
    "steps": ["Lie face down.", "Prop yourself on your elbows.", "Hold 15 seconds."],
    "dosages": [
        {
            "source": "back-injury-rehabilitation",
            "reps": 10,
            "hold_seconds": 15,
            "per_side": False,
            "frequency": "Three times a day while in pain, then once a day.",
        }
    ],
    "indications": ["Pain that eases when bending backwards."],
    "cautions": ["Stop if pain increases or new pain appears."],
    "tensions_sciatic_nerve": False,
    "impact": "low",
    "progressions": {"easier": [], "harder": []},
    "variants": [],
    "status": "published",
    "citations": [
        {
            "source": "back-injury-rehabilitation",
            "title": "Back Injury Rehabilitation",
            "publisher_kind": "health_information_site",
            "seed_file": "000_e69b0612c50e5fb3.txt",
            "note": None,
        }
    ],
    "version": 1,
}


class PoseOut(Pose):
    model_config = ALWAYS_PRESENT


class ReachOut(Reach):
    model_config = ALWAYS_PRESENT


class FrameOut(Frame):
    model_config = ALWAYS_PRESENT

    pose: PoseOut
    reach: list[ReachOut]  # type: ignore[assignment]


class FigureOut(Figure):
    """The figure as the API writes it: every field, defaults included."""

    model_config = ALWAYS_PRESENT

    frames: list[FrameOut]  # type: ignore[assignment]


class ExerciseDetail(ExerciseFields):
    model_config = ConfigDict(**examples(DETAIL_EXAMPLE), **ALWAYS_PRESENT)

    # The same dosages, described as written (every field present): a list is invariant to mypy.
    dosages: list[DosageOut] = Field(min_length=1)  # type: ignore[assignment]
    progressions: ProgressionsOut
    citations: list[CitationOut]
    figure: FigureOut | None
    version: int = Field(ge=1, description="Increases with every change to the exercise.")
    illustrations: list[IllustrationLink] = Field(
        description="The exercise drawn from its `figure`, one picture per key frame."
    )
    media: list[MediaRecord] = Field(  # type: ignore[assignment]
        description="Images editors attached, each with its licence, author, source, alt text "
        "and the URLs of its file and thumbnail."
    )


class ChangeItem(BaseModel):
    model_config = examples(
        {"slug": "cat-stretch", "revision": 41, "change": "published", "exercise": DETAIL_EXAMPLE},
        {"slug": "heel-slides", "revision": 42, "change": "retired", "exercise": None},
    )

    slug: Slug
    revision: int = Field(ge=1, description="The catalogue revision of its last change.")
    change: SyncChange = Field(
        description="`published`: store `exercise`, replacing any copy. Anything else: drop it."
    )
    exercise: ExerciseDetail | None = Field(
        description="The same document as GET /v1/exercises/{slug}; null unless `published`."
    )


class ChangesPage(BaseModel):
    model_config = examples(
        {
            "revision": 42,
            "items": [
                {"slug": "heel-slides", "revision": 42, "change": "retired", "exercise": None}
            ],
            "next_cursor": None,
        }
    )

    revision: int = Field(
        ge=0,
        description="Once every page is in, ask `since` this revision next. The same on every "
        "page of one pass (lower only if a replica behind the first page's answers a later one).",
    )
    items: list[ChangeItem] = Field(description="Oldest change first: by revision, then slug.")
    next_cursor: str | None = Field(
        description="Opaque; pass it back as `cursor` for the next page. Null on the last page."
    )


class CatalogueDownload(BaseModel):
    model_config = examples({"revision": 42, "items": [DETAIL_EXAMPLE]})

    revision: int = Field(
        ge=0, description="The catalogue revision; ask GET /v1/changes `since` it next."
    )
    items: list[ExerciseDetail] = Field(
        description="Every published exercise, in slug order, as GET /v1/exercises/{slug} has it."
    )


class ProgressionChain(BaseModel):
    model_config = examples({"slug": "prone-back-extension", "items": [SUMMARY_EXAMPLE]})

    slug: Slug = Field(description="The exercise asked about.")
    items: list[ExerciseSummary] = Field(description="The linked chain, easiest first.")


class TermOut(BaseModel):
    slug: str = Field(examples=["lower_back"])
    name: str = Field(examples=["Lower back"])
    exercise_count: int = Field(ge=0, description="Published exercises that use the term.")


class TermList(BaseModel):
    model_config = examples(
        {"items": [{"slug": "lower_back", "name": "Lower back", "exercise_count": 10}]}
    )

    items: list[TermOut]


class LevelOut(BaseModel):
    slug: Level
    name: str
    rank: int = Field(ge=0, description="0 is the easiest.")
    description: str
    when_to_move_up: str
    exercise_count: int = Field(ge=0)


class LevelList(BaseModel):
    model_config = examples(
        {
            "items": [
                {
                    "slug": "beginner",
                    "name": "Beginner",
                    "rank": 0,
                    "description": "Gentle movements lying down or supported, short holds.",
                    "when_to_move_up": "When the full dosage is easy for about a week.",
                    "exercise_count": 14,
                }
            ]
        }
    )

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
    model_config = examples(
        {
            "items": [
                {
                    "slug": "flexion_sensitive",
                    "name": "Flexion-sensitive back",
                    "explanation": "Pain gets worse when you bend forward.",
                    "excluded_motions": ["flexion"],
                    "indicated_motion": "extension",
                    "evidence": "Source 003: extension may relieve a disc problem.",
                    "exercise_count": 5,
                }
            ]
        }
    )

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
    model_config = examples(
        {
            "items": [
                {
                    "id": "back-injury-rehabilitation",
                    "title": "Back Injury Rehabilitation",
                    "publisher_kind": "health_information_site",
                    "seed_file": "000_e69b0612c50e5fb3.txt",
                    "author": "Laura Inverarity, DO",
                    "notes": None,
                    "exercise_count": 4,
                }
            ]
        }
    )

    items: list[SourceOut]


class Health(BaseModel):
    model_config = examples({"status": "ok"})

    status: str = Field(examples=["ok"])


class Readiness(BaseModel):
    model_config = examples(
        {
            "status": "ready",
            "database": "reachable",
            "migration": "0001",
            "catalogue_revision": 3,
            "unreadable_exercises": [],
        }
    )

    status: str = Field(examples=["ready"])
    database: str = Field(examples=["reachable"])
    migration: str | None = Field(examples=["0001"])
    catalogue_revision: int
    unreadable_exercises: list[str] = Field(
        description="Exercises whose stored document this process cannot read, most likely "
        "written by a newer version of the code. It keeps serving the version it had (or leaves "
        "a new one out) until it is upgraded; empty when all is well.",
    )


# --- administration ---------------------------------------------------------------------------


class AdminExercisePage(BaseModel):
    model_config = examples({"items": [DETAIL_EXAMPLE], "next_cursor": None})

    items: list[ExerciseDetail]
    next_cursor: str | None


class ImportReport(BaseModel):
    model_config = examples(
        {
            "dry_run": True,
            "created": ["slow-heel-raises"],
            "updated": ["cat-stretch"],
            "unchanged": [],
        }
    )

    dry_run: bool
    created: list[str]
    updated: list[str]
    unchanged: list[str]


class AuditEntry(BaseModel):
    id: int
    at: UtcTimestamp
    actor: str = Field(description="The name of the key that made the change.")
    action: str = Field(examples=["update"])
    exercise: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(BaseModel):
    model_config = examples(
        {
            "items": [
                {
                    "id": 12,
                    "at": "2026-11-24T10:39:16.000000Z",
                    "actor": "alice",
                    "action": "update",
                    "exercise": "cat-stretch",
                    "before": {"name": "Cat stretch"},
                    "after": {"name": "Cat stretch (arched back)"},
                }
            ],
            "next_cursor": None,
        }
    )

    items: list[AuditEntry]
    next_cursor: str | None


class ExerciseVersionItem(BaseModel):
    model_config = ConfigDict(**ALWAYS_PRESENT)

    version: int = Field(ge=1, examples=[1])
    status: Status = Field(description="`published`, or `retired` for the version retiring it.")
    recorded_at: str = Field(
        description="When this version was written (RFC 3339, UTC).",
        examples=["2026-11-29T13:28:38.933400Z"],
    )
    url: str = Field(
        description="Where this version's whole record is served.",
        examples=["/v1/exercises/cat-stretch/versions/1"],
    )


class ExerciseVersionList(BaseModel):
    model_config = ConfigDict(**ALWAYS_PRESENT)

    slug: Slug = Field(examples=["cat-stretch"])
    items: list[ExerciseVersionItem] = Field(
        description="Every version that was published (or retired it), oldest first."
    )
