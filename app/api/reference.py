"""Reference data: vocabularies with counts, levels, contraindication flags, sources."""

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from fastapi import APIRouter

from app.api.dependencies import CatalogueDep
from app.api.routing import StrictQueryRoute
from app.api.schemas import (
    FlagList,
    FlagOut,
    LevelList,
    LevelOut,
    SourceList,
    SourceOut,
    TermList,
    TermOut,
)
from app.core.errors import problem_responses
from app.domain.catalogue import Catalogue
from app.domain.guidance import FLAGS, LEVELS
from app.domain.vocabulary import Category, Equipment, Position, TargetArea, display_name

router = APIRouter(prefix="/v1", tags=["reference"], route_class=StrictQueryRoute)

ERRORS = problem_responses(400, 503)


def terms(catalogue: Catalogue, vocabulary: Iterable[StrEnum], field_name: str) -> TermList:
    counts = catalogue.term_counts(field_name)
    return TermList(
        items=[
            TermOut(slug=term.value, name=display_name(term), exercise_count=counts[term.value])
            for term in vocabulary
        ]
    )


def vocabulary_route(path: str, vocabulary: type[StrEnum], field_name: str, noun: str) -> None:
    async def endpoint(catalogue: CatalogueDep) -> TermList:
        return terms(catalogue, vocabulary, field_name)

    router.add_api_route(
        path,
        endpoint,
        methods=["GET"],
        response_model=TermList,
        summary=f"List {noun}",
        description=f"Every {noun[:-1] if noun.endswith('s') else noun} term with its slug, "
        "display name and how many published exercises use it.",
        responses=ERRORS,
        name=f"list_{field_name}_terms",
    )


vocabulary_route("/target-areas", TargetArea, "target_areas", "target areas")
vocabulary_route("/categories", Category, "category", "categories")
vocabulary_route("/equipment", Equipment, "equipment", "equipment")
vocabulary_route("/positions", Position, "position", "positions")


@router.get(
    "/progression-levels",
    response_model=LevelList,
    summary="List progression levels",
    description="The three levels (from the AAOS program in source 001), what each means and "
    "when to move up.",
    responses=ERRORS,
)
async def list_levels(catalogue: CatalogueDep) -> LevelList:
    counts = catalogue.term_counts("level")
    return LevelList(
        items=[
            LevelOut(
                slug=level.level,
                name=level.name,
                rank=level.level.rank,
                description=level.description,
                when_to_move_up=level.when_to_move_up,
                exercise_count=counts[level.level.value],
            )
            for level in LEVELS
        ]
    )


@router.get(
    "/contraindications",
    response_model=FlagList,
    summary="List contraindication flags",
    description="Each sensitivity flag: a plain-language explanation, the spinal motions it "
    "excludes by default, the direction indicated instead and where that claim comes from.",
    responses=ERRORS,
)
async def list_flags(catalogue: CatalogueDep) -> FlagList:
    counts = catalogue.term_counts("contraindicated_for")
    return FlagList(
        items=[
            FlagOut(
                slug=flag.flag,
                name=flag.name,
                explanation=flag.explanation,
                excluded_motions=flag.excluded_motions,
                indicated_motion=flag.indicated_motion,
                evidence=flag.evidence,
                exercise_count=counts[flag.flag],
            )
            for flag in FLAGS
        ]
    )


@router.get(
    "/sources",
    response_model=SourceList,
    summary="List cited sources",
    description="The articles the catalogue's content comes from, with how many published "
    "exercises cite each.",
    responses=ERRORS,
)
async def list_sources(catalogue: CatalogueDep) -> SourceList:
    counts = catalogue.term_counts("cited_sources")
    items: list[dict[str, Any]] = [
        {**source.model_dump(), "exercise_count": counts[source.id]}
        for source in catalogue.sources.values()
    ]
    return SourceList(items=[SourceOut.model_validate(item) for item in items])
