"""The routine engine: (catalogue, profile, seed) in, a routine with its reasons out.

Pure: no database, clock or global random; the seed drives a local `random.Random`, so the same
catalogue, profile and seed always give the identical plan.
"""

import bisect
import heapq
import itertools
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from app.domain.catalogue import Catalogue, CatalogueEntry
from app.domain.exercise import Dosage, DosageOut
from app.domain.exercise_facts import chosen_dose
from app.domain.routines.advice import (
    advice_sources,
    citations_for,
    frequency_for,
    safety_notes_for,
)
from app.domain.routines.eligibility import done_on_bed
from app.domain.routines.limits import LIMIT_DETAILS, broken_limit
from app.domain.routines.model import (
    BLOCK_TITLES,
    EXCLUDED_SHOWN,
    NOTHING_EXCLUDED,
    POOL_LIMIT,
    BlockName,
    Exclusion,
    ExclusionCode,
    ExclusionReason,
    ExclusionSummary,
    ExerciseSnapshot,
    ItemReason,
    Outcome,
    Referral,
    RoutineBlock,
    RoutineItem,
    RoutinePlan,
    RuleCount,
    SelectionCode,
)
from app.domain.routines.ordering import block_for, flatten, order_routine
from app.domain.routines.prescription import Prescription, prescribe
from app.domain.routines.profile import Profile
from app.domain.routines.red_flags import RedFlag, matched_red_flags
from app.domain.routines.rules import ROUTINE_RULES, RuleId
from app.domain.routines.selection import (
    FILL_TARGET,
    INDICATED_MOTIONS,
    candidate_pool,
    select,
)
from app.domain.routines.session import session_minutes
from app.domain.routines.timing import routine_seconds, whole_minutes
from app.domain.routines.verdicts import EligibilityGroup, Verdicts, first_slugs
from app.domain.vocabulary import Category, Equipment, Position, SpinalMotion, display_name

RULE_CODES: dict[RuleId, ExclusionCode] = {
    rule.id: ExclusionCode(rule.code)
    for rule in ROUTINE_RULES
    if rule.code is not None and rule.code in ExclusionCode.__members__
}
"""The exclusion code each exclusion rule appears under."""


def generate_routine(catalogue: Catalogue, profile: Profile, seed: int) -> RoutinePlan:
    """`seed` is the one to use (the API picks one when `profile.seed` is None)."""
    red_flags = matched_red_flags(profile.red_flags)
    if any(not cleared(flag, profile) for flag in red_flags):
        return referral_plan(catalogue, profile, red_flags, seed)
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


@dataclass(frozen=True)
class Selection:
    """What the routine is made from: every exercise judged, and those chosen."""

    verdicts: Verdicts
    pool: list[CatalogueEntry]
    """The suited exercises the selection drew from (`candidate_pool`)."""
    chosen: list[Prescription]

    @property
    def chosen_slugs(self) -> set[str]:
        return {item.entry.slug for item in self.chosen}


def selection(catalogue: Catalogue, profile: Profile, seed: int) -> Selection:
    verdicts = Verdicts(catalogue, profile)
    pool = candidate_pool(verdicts, profile, seed)
    return Selection(verdicts, pool, select(pool, profile, seed, verdicts.families))


def routine_plan(catalogue: Catalogue, profile: Profile, seed: int) -> RoutinePlan:
    chosen_with = selection(catalogue, profile, seed)
    verdicts, chosen = chosen_with.verdicts, chosen_with.chosen
    ordered = order_routine(chosen)
    flat = flatten(ordered)
    seconds = routine_seconds([item.seconds for item in flat], [item.position for item in flat])
    with_aerobic = any(item.is_aerobic for item in chosen)
    cited = [source for item in flat for source in item.entry.cited_sources]
    frequency = frequency_for(profile, whole_minutes(seconds), with_aerobic)
    suggestions = fill_suggestions(verdicts, profile) if under_filled(profile, seconds) else []
    summary = exclusion_summary(catalogue, chosen_with)
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
        excluded=nearest_exclusions(catalogue, chosen_with),
        excluded_summary=summary,
        estimated_seconds=seconds,
        estimated_minutes=whole_minutes(seconds),
        frequency=frequency,
        safety_notes=safety_notes_for(profile, with_aerobic),
        citations=citations_for(
            [*cited, *frequency.sources, *advice_sources(profile)], catalogue.sources
        ),
        referral=None,
        explanation=joined(
            explanation(profile, seconds, summary, chosen, suggestions),
            indicated_left_out(profile, catalogue, chosen_with),
            aerobic_left_out(profile, catalogue, chosen_with),
        ),
        fill_suggestions=suggestions,
        session_minutes=session_minutes(profile),
        seed=seed,
        catalogue_revision=catalogue.revision,
    )


def referral_plan(
    catalogue: Catalogue, profile: Profile, red_flags: list[RedFlag], seed: int
) -> RoutinePlan:
    """Any red flag: advice to seek care, as urgently as the most urgent flag, and no exercises."""
    most_urgent = red_flags[0]
    return RoutinePlan(
        outcome=Outcome.refer,
        blocks=[],
        excluded=[],
        excluded_summary=NOTHING_EXCLUDED,
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
        fill_suggestions=[],
        session_minutes=session_minutes(profile),
        seed=seed,
        catalogue_revision=catalogue.revision,
    )


def routine_item(item: Prescription, profile: Profile) -> RoutineItem:
    """The item as the routine shows it, its texts read from the entry's stored document."""
    entry = item.entry
    document = entry.document()
    if isinstance(item.dosage, Dosage):
        dosage = DosageOut.model_validate(item.dosage, from_attributes=True)
    else:
        dosage = DosageOut.model_validate(chosen_dose(document["dosages"]))
    snapshot = ExerciseSnapshot(
        slug=entry.slug,
        version=entry.version,
        name=document["name"],
        summary=document["summary"],
        steps=document["steps"],
        position=entry.position,
        spinal_motion=entry.spinal_motion,
        category=entry.category,
        level=entry.level,
        target_areas=document["target_areas"],
        dosage=dosage,
        cautions=document.get("cautions", []),
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


BED_POSITIONS: dict[Position, str] = {
    Position.supine: "lying on your back on a firm bed",
    Position.prone: "lying on your stomach on a firm bed",
    Position.hands_and_knees: "on all fours on a firm bed",
    Position.long_sitting: "sitting on a firm bed with your legs out straight",
}
"""How a floor exercise is done on a bed, in its own position (never "lying" for all fours)."""

GENTLE_PULL_CUE = "only to a gentle pull; stop if the leg pain increases or spreads"


def on_bed_instruction(position: Position) -> str:
    return BED_POSITIONS.get(position, f"{display_name(position).lower()} on a firm bed")


def needs_standing_support(item: Prescription, profile: Profile) -> bool:
    """Standing balance work (heel raises) for someone who cannot get down to the floor; an
    exercise done against a wall is already supported."""
    return (
        not profile.can_get_on_floor
        and not item.is_aerobic
        and item.position is Position.standing
        and Equipment.wall not in item.entry.equipment
    )


def final_reasons(item: Prescription, profile: Profile) -> list[ItemReason]:
    """Reasons that depend on the finished routine: raised sets, scaled aerobic, bed, support,
    legs."""
    reasons: list[ItemReason] = []
    cited_sets = item.dosage.sets or 1
    if not item.is_aerobic and item.sets > cited_sets:
        reasons.append(
            ItemReason(
                code=SelectionCode.sets_raised,
                rule=RuleId.sets_raised,
                detail=(
                    f"{item.sets} sets instead of {cited_sets}, to use the time you have. The "
                    "source gives no number of sets: this is a design choice, not the source's."
                ),
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
                rule=RuleId.aerobic_scaled,
                detail=(
                    f"The source recommends at least {cited_minutes} minutes; "
                    f"{item.duration_minutes} fit in this routine beside the exercises. Make up "
                    "the rest in a separate session when you can."
                ),
            )
        )
    if done_on_bed(item.entry, profile):
        reasons.append(
            ItemReason(
                code=SelectionCode.on_bed,
                rule=RuleId.on_bed,
                detail=(
                    f"Do it {on_bed_instruction(item.position)}, since you cannot get down to "
                    "the floor."
                ),
            )
        )
    if needs_standing_support(item, profile):
        reasons.append(
            ItemReason(
                code=SelectionCode.standing_support,
                rule=RuleId.standing_support,
                detail="Hold on to a counter or chair back while you do it, for balance.",
            )
        )
    if profile.leg_symptoms and item.entry.tensions_sciatic_nerve:
        reasons.append(
            ItemReason(
                code=SelectionCode.leg_symptoms,
                rule=RuleId.leg_symptoms_gentle_pull,
                detail=(
                    "This stretch pulls on the sciatic nerve: with pain in your leg, go "
                    f"{GENTLE_PULL_CUE}."
                ),
            )
        )
    return reasons


def exclusion(entry: CatalogueEntry, chosen_with: Selection) -> Exclusion:
    """One exercise left out, with every reason: the rules it breaks, else the routine-wide
    limit or the time that kept it out."""
    reasons = chosen_with.verdicts.reasons(entry) or [
        unfitted_reason(entry, chosen_with.chosen, chosen_with.verdicts)
    ]
    return Exclusion(slug=entry.slug, name=entry.name, reasons=reasons)


def nearness(profile: Profile) -> Callable[[CatalogueEntry, int], tuple[int, int, str]]:
    """How near an exercise left out is to the routine (smaller is nearer): more of the target
    areas asked for, then fewer rules broken, then slug order."""
    asked = frozenset(profile.target_areas)

    def key(entry: CatalogueEntry, rules_broken: int) -> tuple[int, int, str]:
        return (-len(asked & entry.target_areas), rules_broken, entry.slug)

    return key


NEAREST_PER_GROUP = 3
NEAREST_WEIGHED = 240
"""Above `POOL_LIMIT` exercises, how many ruled-out exercises `nearest_exclusions` weighs at
most: the first few of each group, groups breaking fewer rules first."""


def nearest_exclusions(catalogue: Catalogue, chosen_with: Selection) -> list[Exclusion]:
    """The `EXCLUDED_SHOWN` exercises left out nearest to the routine, nearest first, with
    their reasons (written for those shown only).

    In a catalogue of up to `POOL_LIMIT` exercises every one is weighed. In a larger one the
    candidates are bounded: the suited ones the selection drew (its pool), and from the groups
    of exercises ruled out, groups breaking fewer rules first, the first `NEAREST_PER_GROUP` in
    slug order among those working each asked area and of the group, until `NEAREST_WEIGHED`
    were weighed or none left could come nearer than those found."""
    verdicts = chosen_with.verdicts
    key = nearness(verdicts.profile)
    chosen = chosen_with.chosen_slugs
    by_slug = catalogue.by_slug
    exact = len(catalogue) <= POOL_LIMIT
    suited = verdicts.eligible if exact else chosen_with.pool
    nearest = heapq.nsmallest(
        EXCLUDED_SHOWN, (key(entry, 0) for entry in suited if entry.slug not in chosen)
    )
    asked = list(dict.fromkeys(verdicts.profile.target_areas))
    weighed = 0
    for group, rules in sorted(verdicts.ineligible_groups(), key=lambda pair: len(pair[1])):
        if len(nearest) == EXCLUDED_SHOWN and nearest[-1] < (-len(asked), len(rules), ""):
            break  # no exercise breaking this many rules can come nearer
        if exact:
            slugs: Collection[str] = group.members
        else:
            if weighed >= NEAREST_WEIGHED:
                break
            postings = [*(group.by_area.get(area, []) for area in asked), group.members]
            slugs = {slug for posting in postings for slug in posting[:NEAREST_PER_GROUP]}
            weighed += len(slugs)
        nearest = heapq.nsmallest(
            EXCLUDED_SHOWN, [*nearest, *(key(by_slug[slug], len(rules)) for slug in slugs)]
        )
    return [exclusion(by_slug[slug], chosen_with) for _, _, slug in nearest]


def all_exclusions(
    catalogue: Catalogue, profile: Profile, seed: int, after_slug: str | None, limit: int
) -> tuple[list[Exclusion], str | None]:
    """Every exercise a routine leaves out, in slug order, `limit` at a time after `after_slug`:
    the page and the slug to continue after (None on the last page). A referral leaves nothing
    out: it offers no exercises at all."""
    if generate_routine_outcome(profile) is Outcome.refer:
        return [], None
    chosen_with = selection(catalogue, profile, seed)
    chosen = chosen_with.chosen_slugs
    start = 0 if after_slug is None else bisect.bisect_right(catalogue.slugs, after_slug)
    page: list[Exclusion] = []
    for entry in itertools.islice(catalogue.entries, start, None):
        if entry.slug in chosen:
            continue
        if len(page) == limit:
            return page, page[-1].slug
        page.append(exclusion(entry, chosen_with))
    return page, None


def generate_routine_outcome(profile: Profile) -> Outcome:
    """Whether the profile gets a routine or a referral."""
    red_flags = matched_red_flags(profile.red_flags)
    if any(not cleared(flag, profile) for flag in red_flags):
        return Outcome.refer
    return Outcome.routine


def exclusion_summary(catalogue: Catalogue, chosen_with: Selection) -> ExclusionSummary:
    verdicts = chosen_with.verdicts
    counts = verdicts.rule_counts()
    return ExclusionSummary(
        total=len(catalogue) - len(chosen_with.chosen),
        by_rule=[
            RuleCount(rule=rule, code=RULE_CODES[rule], count=counts[rule])
            for rule in RuleId
            if counts[rule]
        ],
        suited=verdicts.eligible_count - len(chosen_with.chosen),
    )


SUITED_CODES = frozenset(
    {ExclusionCode.alternative_chosen, ExclusionCode.routine_limit, ExclusionCode.time}
)
"""The codes of an exercise that suits the person but did not fit (`unfitted_reason`)."""


def listed_exclusion_summary(excluded: Sequence[Exclusion]) -> ExclusionSummary:
    """The summary of a routine stored before routines carried one, which listed every
    exclusion: counted from that full list, as `exclusion_summary` counts the catalogue."""
    counts: Counter[RuleId] = Counter()
    codes: dict[RuleId, ExclusionCode] = {}
    suited = 0
    for item in excluded:
        broken = [reason for reason in item.reasons if reason.code not in SUITED_CODES]
        suited += not broken
        for reason in broken:
            counts[reason.rule] += 1
            codes.setdefault(reason.rule, reason.code)
    return ExclusionSummary(
        total=len(excluded),
        by_rule=[
            RuleCount(rule=rule, code=codes[rule], count=counts[rule])
            for rule in RuleId
            if counts[rule]
        ],
        suited=suited,
    )


def nearest_listed(excluded: Sequence[Exclusion]) -> list[Exclusion]:
    """The `EXCLUDED_SHOWN` nearest of a stored full list, as near as the list alone tells:
    fewer reasons first (one that suits the person before one they may not do), then slug."""
    return heapq.nsmallest(
        EXCLUDED_SHOWN, excluded, key=lambda item: (len(item.reasons), item.slug)
    )


def with_excluded_summary(document: dict[str, Any]) -> dict[str, Any]:
    """A stored routine in the published shape: one written before routines carried
    `excluded_summary` gets it from its full `excluded` list, which is then bounded like a new
    routine's. Any other document is returned as it is."""
    if "excluded_summary" in document or "excluded" not in document:
        return document
    excluded = [Exclusion.model_validate(item) for item in document["excluded"]]
    upgraded: dict[str, Any] = {}
    for key, value in document.items():
        if key == "excluded":
            upgraded[key] = [item.model_dump(mode="json") for item in nearest_listed(excluded)]
            upgraded["excluded_summary"] = listed_exclusion_summary(excluded).model_dump(
                mode="json"
            )
        else:
            upgraded[key] = value
    return upgraded


def unfitted_reason(
    entry: CatalogueEntry, chosen: Sequence[Prescription], verdicts: Verdicts
) -> ExclusionReason:
    profile, families = verdicts.profile, verdicts.families
    if entry.category is Category.aerobic and any(item.is_aerobic for item in chosen):
        return ExclusionReason(
            code=ExclusionCode.alternative_chosen,
            rule=RuleId.one_aerobic_activity,
            detail="A routine holds one aerobic activity, and another one was chosen.",
        )
    block = BlockName.aerobic if entry.category is Category.aerobic else block_for(entry)
    limit = broken_limit(chosen, prescribe(entry, profile, block, []), profile, families)
    if limit is not None:
        return ExclusionReason(
            code=ExclusionCode.routine_limit, rule=limit, detail=LIMIT_DETAILS[limit]
        )
    return ExclusionReason(
        code=ExclusionCode.time,
        rule=RuleId.time,
        detail="It suits you but did not fit in the time asked.",
    )


def under_filled(profile: Profile, seconds: int) -> bool:
    return seconds < FILL_TARGET * session_minutes(profile) * 60


def fill_suggestions(verdicts: Verdicts, profile: Profile) -> list[str]:
    """What would open up more exercises: each suggestion names the exercises kept out by that
    one thing alone (aerobic not asked for, no bed, missing equipment, no helper, the level)."""
    only: dict[RuleId, list[EligibilityGroup]] = {}
    for group, rules in verdicts.ineligible_groups():
        if len(rules) == 1:
            only.setdefault(rules[0], []).append(group)
    suggestions: list[str] = []
    aerobic = only.get(RuleId.aerobic_not_requested, [])
    if aerobic:
        suggestions.append(
            "Asking for aerobic exercise (include_aerobic) would add one of these, which you "
            f"have the equipment for: {names(verdicts.catalogue, aerobic)}."
        )
    on_a_bed = [
        group for group in only.get(RuleId.floor_position, []) if group.representative.bed_friendly
    ]
    if on_a_bed:
        suggestions.append(
            "Listing a bed in available_equipment would open up floor exercises that can be "
            f"done on a bed: {names(verdicts.catalogue, on_a_bed)}."
        )
    by_missing: dict[str, list[EligibilityGroup]] = {}
    for group in only.get(RuleId.equipment, []):
        missing = [
            item
            for item in group.representative.equipment
            if item not in profile.available_equipment
        ]
        needed = " and ".join(display_name(item) for item in missing)
        by_missing.setdefault(needed, []).append(group)
    for needed, groups_needing in by_missing.items():
        listed = names(verdicts.catalogue, groups_needing)
        suggestions.append(f"{needed} (in available_equipment) would add: {listed}.")
    helped = only.get(RuleId.helper, [])
    if helped:
        suggestions.append(f"A helper would add: {names(verdicts.catalogue, helped)}.")
    next_rank = profile.level.rank + 1
    higher = [
        group
        for group in only.get(RuleId.level, [])
        if group.representative.level.rank == next_rank
    ]
    if higher:
        suggestions.append(
            f"Moving up to {higher[0].representative.level.value}, when you are ready, would "
            f"add: {names(verdicts.catalogue, higher)}."
        )
    return suggestions


NAMES_SHOWN = 8
"""A sentence names at most this many exercises, then says how many more there are."""


def names(catalogue: Catalogue, groups: Sequence[EligibilityGroup]) -> str:
    """The first `NAMES_SHOWN` exercises of `groups` in slug order, and how many more."""
    shown = ", ".join(catalogue.by_slug[slug].name for slug in first_slugs(groups, NAMES_SHOWN))
    more = sum(len(group.members) for group in groups) - NAMES_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


def explanation(
    profile: Profile,
    seconds: int,
    summary: ExclusionSummary,
    chosen: Sequence[Prescription],
    suggestions: Sequence[str],
) -> str | None:
    parts: list[str] = []
    minutes = session_minutes(profile)
    if minutes < profile.minutes:
        parts.append(
            f"In the acute phase a session is kept to {minutes} minutes and done three times a "
            f"day, so this one is {minutes} of the {profile.minutes} minutes asked. This is a "
            "design choice: source 000's three times a day was written for four short "
            "exercises (about 8 minutes)."
        )
    if not chosen:
        counts: Counter[str] = Counter()
        for counted in summary.by_rule:
            counts[counted.code.value] += counted.count
        listed = ", ".join(f"{code} ({count})" for code, count in sorted(counts.items()))
        parts.append(
            "No exercise in the catalogue fits this profile, so the routine is empty. Exercises "
            f"were left out for: {listed or 'an empty catalogue'}. Each exclusion says why."
        )
    elif under_filled(profile, seconds):
        parts.append(
            f"Only about {whole_minutes(seconds)} of the {minutes} minutes could be filled "
            "with exercises that suit this profile."
        )
    if suggestions:
        parts.append("What would fill it: " + " ".join(suggestions))
    elif chosen and under_filled(profile, seconds):
        parts.append(
            "No other exercise in the catalogue suits this profile as it stands; the shorter "
            "session, done as given, is fine."
        )
    return " ".join(parts) or None


INDICATED_DIRECTION_NAMES = {
    SpinalMotion.extension: "bending backwards",
    SpinalMotion.flexion: "gentle forward bending",
}


def indicated_left_out(
    profile: Profile, catalogue: Catalogue, chosen_with: Selection
) -> str | None:
    """When the direction indicated for the person's back is missing from the routine, say so
    and why, so nobody takes its absence for a choice."""
    motion = INDICATED_MOTIONS.get(profile.sensitivity)
    chosen = chosen_with.chosen
    if motion is None or any(item.entry.spinal_motion is motion for item in chosen):
        return None
    direction = INDICATED_DIRECTION_NAMES[motion]
    missing = chosen_with.verdicts.groups(lambda facts: facts.spinal_motion is motion)
    if not missing:
        return (
            f"The indicated direction for your back is {direction}, but no exercise in the "
            "catalogue moves that way, so the routine has none."
        )
    why = why_each(missing, chosen_with)
    return (
        f"The indicated direction for your back is {direction}, but no exercise in that "
        f"direction is in this routine. {why}"
    )


def aerobic_left_out(profile: Profile, catalogue: Catalogue, chosen_with: Selection) -> str | None:
    """When aerobic work was asked for and the routine has none, say why for each activity."""
    if not profile.wants_aerobic or any(item.is_aerobic for item in chosen_with.chosen):
        return None
    activities = chosen_with.verdicts.groups(lambda facts: facts.category is Category.aerobic)
    if not activities:
        return "You asked for aerobic exercise, but the catalogue has no aerobic activity."
    why = why_each(activities, chosen_with)
    return f"You asked for aerobic exercise, but none is in this routine. {why}"


def why_each(groups: Sequence[EligibilityGroup], chosen_with: Selection) -> str:
    """Each exercise of `groups` (the first `NAMES_SHOWN` in slug order) with the first reason
    it is left out."""
    verdicts = chosen_with.verdicts
    shown = [verdicts.catalogue.by_slug[slug] for slug in first_slugs(groups, NAMES_SHOWN)]
    why = "; ".join(f"{entry.name}: {first_reason(verdicts.reasons(entry))}" for entry in shown)
    more = sum(len(group.members) for group in groups) - NAMES_SHOWN
    return f"{why}; and {more} more" if more > 0 else why


def first_reason(reasons: Sequence[ExclusionReason]) -> str:
    if not reasons:
        return "it suits you but did not fit in the time asked."
    detail = reasons[0].detail
    return detail[:1].lower() + detail[1:]


def joined(*sentences: str | None) -> str | None:
    present = [sentence for sentence in sentences if sentence]
    return " ".join(present) if present else None
