"""The routine engine: (catalogue, profile, seed) in, a routine with its reasons out.

Pure: no database, clock or global random; the seed drives a local `random.Random`, so the same
catalogue, profile and seed always give the identical plan.
"""

from collections import Counter
from collections.abc import Sequence

from app.domain.catalogue import Catalogue, CatalogueEntry
from app.domain.routines.advice import (
    advice_sources,
    citations_for,
    frequency_for,
    safety_notes_for,
)
from app.domain.routines.eligibility import done_on_bed, exclusion_reasons
from app.domain.routines.model import (
    BLOCK_TITLES,
    Exclusion,
    ExclusionCode,
    ExclusionReason,
    ExerciseSnapshot,
    ItemReason,
    Outcome,
    Referral,
    RoutineBlock,
    RoutineItem,
    RoutinePlan,
    SelectionCode,
)
from app.domain.routines.ordering import flatten, order_routine
from app.domain.routines.prescription import Prescription
from app.domain.routines.profile import Profile
from app.domain.routines.red_flags import RedFlag, matched_red_flags
from app.domain.routines.selection import FILL_TARGET, INDICATED_MOTIONS, select
from app.domain.routines.timing import routine_seconds, whole_minutes
from app.domain.vocabulary import Category, SpinalMotion


def generate_routine(catalogue: Catalogue, profile: Profile, seed: int) -> RoutinePlan:
    """`seed` is the one to use (the API picks one when `profile.seed` is None)."""
    red_flags = matched_red_flags(profile.red_flags)
    if any(not cleared(flag, profile) for flag in red_flags):
        return referral_plan(catalogue, red_flags, seed)
    plan = routine_plan(catalogue, profile, seed)
    if not red_flags:
        return plan
    return with_cleared_referral(plan, red_flags, catalogue)


def cleared(flag: RedFlag, profile: Profile) -> bool:
    """A "see someone soon" flag a clinician has checked; an emergency never is."""
    return profile.cleared_by_clinician and flag.clinician_can_clear


CLEARED_NOTE = (
    "You told us a clinician has checked the warning signs you reported and cleared you to "
    "exercise, so the routine is given. Keep to any follow-up they advised, and see them again "
    "before going on if the symptoms change."
)


def with_cleared_referral(
    plan: RoutinePlan, red_flags: list[RedFlag], catalogue: Catalogue
) -> RoutinePlan:
    """The routine, with the referral advice of the cleared flags kept beside it."""
    most_urgent = red_flags[0]
    advice = list(dict.fromkeys(flag.advice for flag in red_flags))
    return plan.model_copy(
        update={
            "referral": Referral(
                urgency=most_urgent.urgency,
                advice=most_urgent.advice,
                red_flags=red_flags,
                cleared_by_clinician=True,
            ),
            "safety_notes": [CLEARED_NOTE, *advice, *plan.safety_notes],
            "citations": citations_for(
                [*(c.source for c in plan.citations), *(flag.origin for flag in red_flags)],
                catalogue.sources,
            ),
        }
    )


def routine_plan(catalogue: Catalogue, profile: Profile, seed: int) -> RoutinePlan:
    verdicts = {entry.slug: exclusion_reasons(entry, profile) for entry in catalogue.entries}
    eligible = [entry for entry in catalogue.entries if not verdicts[entry.slug]]
    chosen = select(eligible, profile, seed)
    ordered = order_routine(chosen)
    flat = flatten(ordered)
    seconds = routine_seconds([item.seconds for item in flat], [item.position for item in flat])
    with_aerobic = any(item.is_aerobic for item in chosen)
    cited = [source for item in flat for source in item.exercise.cited_sources]
    frequency = frequency_for(profile, with_aerobic)
    return RoutinePlan(
        outcome=Outcome.routine,
        blocks=[
            RoutineBlock(
                name=block,
                title=BLOCK_TITLES[block],
                items=[routine_item(item, profile) for item in items],
            )
            for block, items in ordered
        ],
        excluded=exclusions(catalogue.entries, verdicts, chosen),
        estimated_seconds=seconds,
        estimated_minutes=whole_minutes(seconds),
        frequency=frequency,
        safety_notes=safety_notes_for(profile, with_aerobic),
        citations=citations_for(
            [*cited, *frequency.sources, *advice_sources(profile)], catalogue.sources
        ),
        referral=None,
        explanation=joined(
            explanation(profile, seconds, verdicts, chosen),
            indicated_left_out(profile, catalogue.entries, verdicts, chosen),
        ),
        seed=seed,
        catalogue_revision=catalogue.revision,
    )


def referral_plan(catalogue: Catalogue, red_flags: list[RedFlag], seed: int) -> RoutinePlan:
    """Any red flag: advice to seek care, as urgently as the most urgent flag, and no exercises."""
    most_urgent = red_flags[0]
    return RoutinePlan(
        outcome=Outcome.refer,
        blocks=[],
        excluded=[],
        estimated_seconds=0,
        estimated_minutes=0,
        frequency=None,
        safety_notes=[
            *dict.fromkeys(flag.advice for flag in red_flags),
            "Do not start back exercises until a clinician has checked these symptoms.",
        ],
        citations=citations_for([flag.origin for flag in red_flags], catalogue.sources),
        referral=Referral(
            urgency=most_urgent.urgency, advice=most_urgent.advice, red_flags=red_flags
        ),
        explanation=(
            "You reported a warning sign that needs medical attention, so no exercises are given."
        ),
        seed=seed,
        catalogue_revision=catalogue.revision,
    )


def routine_item(item: Prescription, profile: Profile) -> RoutineItem:
    exercise = item.exercise
    snapshot = ExerciseSnapshot(
        slug=exercise.slug,
        version=item.entry.version,
        name=exercise.name,
        summary=exercise.summary,
        steps=list(exercise.steps),
        position=exercise.position,
        spinal_motion=exercise.spinal_motion,
        category=exercise.category,
        level=exercise.level,
        target_areas=list(exercise.target_areas),
        dosage=item.dosage,
        cautions=list(exercise.cautions),
    )
    return RoutineItem(
        exercise=snapshot,
        sets=item.sets,
        reps=item.reps,
        hold_seconds=item.hold_seconds,
        per_side=item.per_side,
        rest_seconds=item.rest_seconds,
        duration_minutes=item.duration_minutes,
        estimated_seconds=item.seconds,
        reasons=[*item.reasons, *final_reasons(item, profile)],
    )


def final_reasons(item: Prescription, profile: Profile) -> list[ItemReason]:
    """Reasons that depend on the finished routine: raised sets, scaled aerobic, bed, legs."""
    reasons: list[ItemReason] = []
    cited_sets = item.dosage.sets or 1
    if not item.is_aerobic and item.sets > cited_sets:
        reasons.append(
            ItemReason(
                code=SelectionCode.sets_raised,
                detail=f"{item.sets} sets instead of {cited_sets}, to use the time you have.",
            )
        )
    cited_minutes = item.dosage.duration_minutes
    if (
        item.duration_minutes is not None
        and cited_minutes
        and item.duration_minutes < cited_minutes
    ):
        reasons.append(
            ItemReason(
                code=SelectionCode.aerobic_scaled,
                detail=(
                    f"The source recommends at least {cited_minutes} minutes; "
                    f"{item.duration_minutes} fit in this routine beside the exercises. Make up "
                    "the rest in a separate session when you can."
                ),
            )
        )
    if done_on_bed(item.exercise, profile):
        reasons.append(
            ItemReason(
                code=SelectionCode.on_bed,
                detail="Do it lying on a bed, since you cannot get down to the floor.",
            )
        )
    if profile.leg_symptoms and item.exercise.tensions_sciatic_nerve:
        reasons.append(
            ItemReason(
                code=SelectionCode.leg_symptoms,
                detail=(
                    "This stretch pulls on the sciatic nerve: with pain in your leg, go only to "
                    "a gentle pull and stop if the leg pain increases."
                ),
            )
        )
    return reasons


def exclusions(
    entries: Sequence[CatalogueEntry],
    verdicts: dict[str, list[ExclusionReason]],
    chosen: Sequence[Prescription],
) -> list[Exclusion]:
    """Every exercise left out, with why; eligible ones left out did not fit the time."""
    chosen_slugs = {item.entry.slug for item in chosen}
    aerobic_chosen = any(item.is_aerobic for item in chosen)
    excluded: list[Exclusion] = []
    for entry in entries:
        if entry.slug in chosen_slugs:
            continue
        reasons = verdicts[entry.slug] or [unfitted_reason(entry, aerobic_chosen)]
        excluded.append(Exclusion(slug=entry.slug, name=entry.exercise.name, reasons=reasons))
    return excluded


def unfitted_reason(entry: CatalogueEntry, aerobic_chosen: bool) -> ExclusionReason:
    if aerobic_chosen and entry.exercise.category is Category.aerobic:
        return ExclusionReason(
            code=ExclusionCode.alternative_chosen,
            detail="A routine holds one aerobic activity, and another one was chosen.",
        )
    return ExclusionReason(
        code=ExclusionCode.time, detail="It suits you but did not fit in the time asked."
    )


def explanation(
    profile: Profile,
    seconds: int,
    verdicts: dict[str, list[ExclusionReason]],
    chosen: Sequence[Prescription],
) -> str | None:
    if not chosen:
        counts = Counter(reason.code.value for reasons in verdicts.values() for reason in reasons)
        summary = ", ".join(f"{code} ({count})" for code, count in sorted(counts.items()))
        return (
            "No exercise in the catalogue fits this profile, so the routine is empty. Exercises "
            f"were left out for: {summary or 'an empty catalogue'}. Each exclusion says why."
        )
    if seconds < FILL_TARGET * profile.minutes * 60:
        return (
            f"Only about {whole_minutes(seconds)} of the {profile.minutes} minutes asked could be "
            "filled with exercises that suit this profile."
        )
    return None


INDICATED_DIRECTION_NAMES = {
    SpinalMotion.extension: "bending backwards",
    SpinalMotion.flexion: "gentle forward bending",
}


def indicated_left_out(
    profile: Profile,
    entries: Sequence[CatalogueEntry],
    verdicts: dict[str, list[ExclusionReason]],
    chosen: Sequence[Prescription],
) -> str | None:
    """When the direction indicated for the person's back is missing from the routine, say so
    and why, so nobody takes its absence for a choice."""
    motion = INDICATED_MOTIONS.get(profile.sensitivity)
    if motion is None or any(item.exercise.spinal_motion is motion for item in chosen):
        return None
    direction = INDICATED_DIRECTION_NAMES[motion]
    missing = [entry for entry in entries if entry.exercise.spinal_motion is motion]
    if not missing:
        return (
            f"The indicated direction for your back is {direction}, but no exercise in the "
            "catalogue moves that way, so the routine has none."
        )
    why = "; ".join(
        f"{entry.exercise.name}: {first_reason(verdicts[entry.slug])}" for entry in missing
    )
    return (
        f"The indicated direction for your back is {direction}, but no exercise in that "
        f"direction is in this routine. {why}"
    )


def first_reason(reasons: Sequence[ExclusionReason]) -> str:
    if not reasons:
        return "it suits you but did not fit in the time asked."
    detail = reasons[0].detail
    return detail[:1].lower() + detail[1:]


def joined(*sentences: str | None) -> str | None:
    present = [sentence for sentence in sentences if sentence]
    return " ".join(present) if present else None
