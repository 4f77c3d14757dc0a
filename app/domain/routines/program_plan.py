"""A checked program as a routine: the same document a generated routine is, so its handout,
FHIR PlanDefinition, feedback, retention and deletion work alike; and the next program after
feedback, the clinician's exercises with the doses the feedback calls for.
"""

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from app.domain.catalogue import Catalogue
from app.domain.routines.advice import (
    advice_sources,
    citations_for,
    frequency_for,
    safety_notes_for,
)
from app.domain.routines.checker import PlacedItem, ProgramCheck
from app.domain.routines.engine import routine_item, with_cleared_referral
from app.domain.routines.feedback import Recommendation
from app.domain.routines.model import (
    NOTHING_EXCLUDED,
    ItemReason,
    Outcome,
    RoutineBlock,
    RoutineItem,
    RoutinePlan,
    SelectionCode,
)
from app.domain.routines.prescription import dose_limits
from app.domain.routines.profile import DEFAULT_SEED, Profile
from app.domain.routines.program import Dose, Finding, Override, Program, ProgramBlock
from app.domain.routines.red_flags import matched_red_flags
from app.domain.routines.rules import RuleId, Severity
from app.domain.routines.selection import ordered_seconds
from app.domain.routines.session import session_minutes
from app.domain.routines.timing import whole_minutes

PROGRAM_EXPLANATION = (
    "Your clinician built this program; it was checked by the same rules as the routines this "
    "service generates."
)
AEROBIC_STEP_MINUTES = 5
MINIMUM_AEROBIC_MINUTES = 5


PROGRAM_ORIGIN = "clinician"


def program_document(
    catalogue: Catalogue,
    profile: Profile,
    program: Program,
    check: ProgramCheck,
    overrides: Sequence[Override],
    *,
    routine_id: str,
    created_at: str,
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The stored routine of a program: a generated routine's members, then `origin`, the
    `findings`, the `overrides` with their reasons and the `program` as checked (what feedback
    and `from_routine` start from)."""
    plan = program_plan(catalogue, profile, check, program, overrides)
    return {
        "id": routine_id,
        "created_at": created_at,
        "profile": {**profile.model_dump(mode="json"), "seed": plan.seed},
        "previous_routine_id": None if previous is None else previous["id"],
        "earlier_routine_ids": (
            [] if previous is None else [*previous["earlier_routine_ids"], previous["id"]]
        ),
        **plan.model_dump(mode="json"),
        "origin": PROGRAM_ORIGIN,
        "findings": [finding.model_dump(mode="json") for finding in check.findings],
        "overrides": [override.model_dump(mode="json") for override in overrides],
        "program": program.model_dump(mode="json", exclude_none=True),
    }


def kept_overrides(findings: Sequence[Finding], overrides: Sequence[Override]) -> list[Override]:
    """The overrides that still answer a block finding (after feedback changed a dose)."""
    blocks = {(f.rule, f.pointer) for f in findings if f.severity is Severity.block}
    return [override for override in overrides if (override.rule, override.pointer) in blocks]


def unoverridden(findings: Sequence[Finding], overrides: Sequence[Override]) -> list[Finding]:
    """The block findings no override gives a reason for (an emergency red flag always)."""
    given = {(override.rule, override.pointer) for override in overrides}
    return [
        finding
        for finding in findings
        if finding.severity is Severity.block
        and (not finding.overridable or (finding.rule, finding.pointer) not in given)
    ]


def program_plan(
    catalogue: Catalogue,
    profile: Profile,
    check: ProgramCheck,
    program: Program,
    overrides: Sequence[Override],
) -> RoutinePlan:
    """The program as a routine: its blocks and items in the clinician's order, each item with
    its cues, the clinician's reasons for overrides and the warnings kept; the frequency,
    safety notes and citations as a generated routine has them."""
    items = [item.prescription for item in check.items]
    seconds = ordered_seconds(items)
    with_aerobic = any(item.is_aerobic for item in items)
    frequency = frequency_for(profile, whole_minutes(seconds), with_aerobic)
    cited = [source for item in items for source in item.exercise.cited_sources]
    plan = RoutinePlan(
        outcome=Outcome.routine,
        blocks=[
            RoutineBlock(
                name=placed[0].prescription.block,
                title=block.name,
                items=[
                    program_item(
                        item, profile, check.findings, overrides, block.items[item.index].notes
                    )
                    for item in placed
                ],
            )
            for block_index, block in enumerate(program.blocks)
            if (placed := [item for item in check.items if item.block == block_index])
        ],
        excluded=[],
        excluded_summary=NOTHING_EXCLUDED,
        estimated_seconds=seconds,
        estimated_minutes=whole_minutes(seconds),
        frequency=frequency,
        safety_notes=safety_notes_for(profile, with_aerobic),
        citations=citations_for(
            [*cited, *frequency.sources, *advice_sources(profile)], catalogue.sources
        ),
        referral=None,
        explanation=" ".join(
            [
                PROGRAM_EXPLANATION,
                *(
                    finding.text
                    for finding in check.findings
                    if finding.pointer == "/program" and finding.severity is Severity.warn
                ),
            ]
        ),
        fill_suggestions=[],
        session_minutes=session_minutes(profile),
        seed=DEFAULT_SEED if profile.seed is None else profile.seed,
        catalogue_revision=catalogue.revision,
    )
    red_flags = matched_red_flags(profile.red_flags)
    return with_cleared_referral(plan, red_flags, catalogue) if red_flags else plan


def program_item(
    item: PlacedItem,
    profile: Profile,
    findings: Sequence[Finding],
    overrides: Sequence[Override],
    notes: str | None = None,
) -> RoutineItem:
    """The engine's item for the exercise, with why it is there: the clinician chose it, their
    reason for each override, and each warning about it (or its dose) in words for the person."""
    pointer = item.pointer
    mine = [
        finding
        for finding in findings
        if finding.pointer == pointer or finding.pointer.startswith(pointer + "/")
    ]
    reasons = [
        ItemReason(
            code=SelectionCode.clinician_chosen,
            rule=RuleId.clinician_chosen,
            detail="Your clinician chose this exercise and its dose for you."
            + (f" Their note: {notes}" if notes else ""),
        ),
        *(
            ItemReason(
                code=SelectionCode.clinician_chosen,
                rule=RuleId.clinician_override,
                detail=f"Your clinician chose this because {sentence(override.reason)}",
            )
            for override in overrides
            if override.pointer == pointer
        ),
        *(
            ItemReason(code=SelectionCode.clinician_chosen, rule=finding.rule, detail=finding.text)
            for finding in mine
            if finding.severity is Severity.warn
        ),
    ]
    return routine_item(replace(item.prescription, reasons=reasons), profile)


def sentence(reason: str) -> str:
    """`"the scan shows ..."` -> `"the scan shows ...."`, first letter lowered, one full stop."""
    text = reason.strip()
    if text[:1].isupper() and not text[1:2].isupper():
        text = text[:1].lower() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def adjusted_program(
    check: ProgramCheck, program: Program, recommendation: Recommendation, profile: Profile
) -> tuple[Program, str]:
    """The same exercises with the doses feedback calls for (rule `program-follows-feedback`):
    regress takes a set off, else a third of the repetitions (at least one), or 5 minutes of
    aerobic work; advance adds a set, else repetitions, else 5 minutes, never past what the
    sources cite (a dose the clinician set above that stays); repeat keeps them."""
    if recommendation is Recommendation.repeat:
        return program, "The same exercises and doses your clinician set."
    placed = {(item.block, item.index): item for item in check.items}
    blocks = [
        ProgramBlock(
            name=block.name,
            items=[
                entry.model_copy(
                    update={
                        "dose": adjusted_dose(entry.dose, placed[(b, i)], recommendation, profile)
                    }
                )
                for i, entry in enumerate(block.items)
            ],
        )
        for b, block in enumerate(program.blocks)
    ]
    words = (
        "Your clinician's exercises, a little less of each: a set fewer, or fewer repetitions "
        "or minutes."
        if recommendation is Recommendation.regress
        else "Your clinician's exercises, a little more of each, within what the sources cite."
    )
    return Program(blocks=blocks), words


def adjusted_dose(
    dose: Dose, item: PlacedItem, recommendation: Recommendation, profile: Profile
) -> Dose:
    if recommendation is Recommendation.regress:
        return lowered(dose)
    limits = dose_limits(item.entry.exercise, profile.phase)
    if dose.minutes is not None:
        most = max(limits.minutes, dose.minutes)
        return dose.model_copy(update={"minutes": min(most, dose.minutes + AEROBIC_STEP_MINUTES)})
    if dose.sets < limits.sets.most:
        return dose.model_copy(update={"sets": dose.sets + 1})
    repetitions = dose.repetitions or 1
    if repetitions < limits.repetitions:
        raised = repetitions + max(1, repetitions // 3)
        return dose.model_copy(update={"repetitions": min(limits.repetitions, raised)})
    return dose


def lowered(dose: Dose) -> Dose:
    if dose.minutes is not None:
        minutes = max(MINIMUM_AEROBIC_MINUTES, dose.minutes - AEROBIC_STEP_MINUTES)
        return dose.model_copy(update={"minutes": min(dose.minutes, minutes)})
    if dose.sets > 1:
        return dose.model_copy(update={"sets": dose.sets - 1})
    repetitions = dose.repetitions or 1
    return dose.model_copy(update={"repetitions": max(1, repetitions - max(1, repetitions // 3))})


def published_program(catalogue: Catalogue, program: Program) -> tuple[Program | None, list[str]]:
    """The program on the catalogue as it is now: each exercise at its published version, and
    those no longer published left out (named in the list); None when nothing is left."""
    dropped: list[str] = []
    blocks: list[ProgramBlock] = []
    for block in program.blocks:
        items = []
        for entry in block.items:
            slug = entry.exercise.partition("@")[0]
            if catalogue.get(slug) is None:
                dropped.append(slug)
            else:
                items.append(entry.model_copy(update={"exercise": slug}))
        if items:
            blocks.append(ProgramBlock(name=block.name, items=items))
    return (Program(blocks=blocks) if blocks else None), dropped
