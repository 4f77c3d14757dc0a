"""Which eligible exercises go into the routine, in priority order, within the time asked.

Priorities, each taken only if it fits the time left:
1. the indicated direction (extension for a flexion-sensitive back, gentle flexion for an
   extension-sensitive one), gentlest level first;
2. each requested target area not yet covered, preferring exercises that cover more of them;
3. one aerobic activity, if asked: scaled to at most half the minutes and at most its cited
   30 minutes, so the exercises keep their place (it may grow into time nothing else can use);
4. a balanced core: one warm-up (range of motion), one mobility stretch, one strength or
   stabilisation exercise;
5. one gentle (beginner) stretch as a cool-down, in the position the routine ends in if possible;
6. the rest, taking mobility, strength and warm-up in turn, new movements before variants of
   movements already chosen;
then, outside the acute phase, sets are raised (never above a cited count; at most
`MAXIMUM_UNCITED_SETS` where the source gives none) and the aerobic activity lengthened to fill
the time. No addition may break a routine-wide limit (`limits.py`): two variants of a stretch,
nerve tension with leg symptoms, one trip down to the floor.
The seed shuffles the candidates of each step, so another seed may give another routine.

A large catalogue is not walked at all: when more exercises are eligible than `POOL_LIMIT`, the
selection draws from a pool the seed samples, up to `POOL_QUOTA` for each thing a step looks for
(the indicated direction, gentlest first; each target area, those covering more of the asked
areas first among `AREA_SAMPLE` drawn; aerobic work; each block of the balanced core; gentle
stretches in each position). Each is drawn from the slug lists of the eligible groups
(`verdicts.py`) by position, never by reading the exercises, so a routine costs the same at 300
exercises as at 100,000. A small catalogue is used whole: the pool is then every eligible
exercise.

Greedy choices can strand time on short routines (a long stretch taken first leaves gaps nothing
fits). So when an attempt fills less than `FILL_TARGET` of the minutes, the selection is tried
again with other shuffles drawn from the same seed, up to `SELECTION_ATTEMPTS` times, and the
first to reach the target (else the fullest) wins. Every attempt keeps the priorities above.
The time is the session's (`session.py`): at most 15 minutes in the acute phase.
"""

import random
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from itertools import accumulate

from app.domain.catalogue import CatalogueEntry
from app.domain.routines.limits import VariantFamilies, broken_limit
from app.domain.routines.model import POOL_LIMIT, BlockName, ItemReason, SelectionCode
from app.domain.routines.ordering import block_for, flatten, order_routine
from app.domain.routines.prescription import Prescription, prescribe
from app.domain.routines.profile import Phase, Profile, Sensitivity
from app.domain.routines.rules import RuleId
from app.domain.routines.session import session_minutes
from app.domain.routines.timing import routine_seconds
from app.domain.routines.verdicts import Verdicts
from app.domain.vocabulary import Category, Level, Position, SpinalMotion, TargetArea

FILL_TARGET = 0.8
"""A routine should fill at least this share of the minutes asked when the catalogue allows."""

SELECTION_ATTEMPTS = 12

AEROBIC_SHARE = 0.5
"""The aerobic activity starts with at most this share of the minutes asked."""

MINIMUM_AEROBIC_MINUTES = 2

INDICATED_MOTIONS: dict[Sensitivity, SpinalMotion] = {
    Sensitivity.flexion_sensitive: SpinalMotion.extension,
    Sensitivity.extension_sensitive: SpinalMotion.flexion,
}

INDICATED_RULES: dict[Sensitivity, RuleId] = {
    Sensitivity.flexion_sensitive: RuleId.indicated_extension,
    Sensitivity.extension_sensitive: RuleId.indicated_flexion,
}

INDICATED_REASONS: dict[Sensitivity, str] = {
    Sensitivity.flexion_sensitive: (
        "Bending backwards is the indicated direction when bending forward makes the pain worse: "
        "one source notes that extension may relieve a disc problem. Putting it first is "
        "clinical practice (McKenzie directional preference), not a claim of the sources."
    ),
    Sensitivity.extension_sensitive: (
        "Gentle forward bending is the indicated direction when bending backwards makes the pain "
        "worse, so it comes first. This follows clinical convention (flexion-biased Williams "
        "exercises), not a claim of the sources."
    ),
}

BALANCE_BLOCKS: tuple[BlockName, ...] = (BlockName.warm_up, BlockName.mobility, BlockName.strength)

POOL_QUOTA = 24
"""Above `POOL_LIMIT`, at most this many candidates for each thing a step looks for."""

AREA_SAMPLE = 4 * POOL_QUOTA
"""Above `POOL_LIMIT`, the exercises drawn for a target area, of which the `POOL_QUOTA` that
cover most of the asked areas join the pool."""

MAXIMUM_MISSES = 60
"""Filling the time stops after this many candidates in a row that would not fit."""


def candidate_pool(verdicts: Verdicts, profile: Profile, seed: int) -> list[CatalogueEntry]:
    """The eligible exercises the selection draws from, in slug order: all of them in a small
    catalogue, else a sample drawn by the seed with a quota for each need (module docstring)."""
    if verdicts.eligible_count <= POOL_LIMIT:
        return verdicts.eligible
    draw = random.Random(seed)
    asked = list(dict.fromkeys(profile.target_areas))
    motion = INDICATED_MOTIONS.get(profile.sensitivity)
    needs: dict[object, dict[int, list[list[str]]]] = {"indicated": {}}
    needs |= {area: {} for area in asked}
    needs |= {block: {} for block in BlockName}
    needs |= {("cool_down", position): {} for position in Position}
    for group in verdicts.eligible_groups:
        facts = group.representative
        if facts.spinal_motion is motion:
            needs["indicated"].setdefault(facts.level.rank, []).append(group.members)
        for area in asked:
            if area in group.by_area:
                needs[area].setdefault(0, []).append(group.by_area[area])
        needs[block_for(facts)].setdefault(0, []).append(group.members)
        if facts.category is Category.stretch and facts.level is Level.beginner:
            needs[("cool_down", facts.position)].setdefault(0, []).append(group.members)
    by_slug = verdicts.catalogue.by_slug
    covered = frozenset(asked)
    pool: set[str] = set()
    for need, tiers in needs.items():
        wanted = POOL_QUOTA
        for tier in sorted(tiers):
            lists = tiers[tier]
            if need in covered:
                drawn = drawn_slugs(lists, AREA_SAMPLE, draw)
                drawn.sort(key=lambda slug: -len(covered & by_slug[slug].target_areas))
                taken = drawn[:wanted]
            else:
                taken = drawn_slugs(lists, wanted, draw)
            pool.update(taken)
            wanted -= len(taken)
            if not wanted:
                break
    return [by_slug[slug] for slug in sorted(pool)]


def drawn_slugs(lists: Sequence[Sequence[str]], count: int, draw: random.Random) -> list[str]:
    """Up to `count` slugs drawn by `draw` from the concatenation of `lists`, read by position
    (nothing but the drawn ones is touched)."""
    ends = list(accumulate(len(slugs) for slugs in lists))
    total = ends[-1] if ends else 0
    drawn: list[str] = []
    for position in draw.sample(range(total), min(count, total)):
        which = bisect_right(ends, position)
        start = ends[which - 1] if which else 0
        drawn.append(lists[which][position - start])
    return drawn


class RoutineBuilder:
    """The growing selection and its time budget."""

    def __init__(
        self,
        eligible: Sequence[CatalogueEntry],
        profile: Profile,
        seed: int,
        families: VariantFamilies,
    ) -> None:
        self.eligible = list(eligible)
        self.profile = profile
        self.random = random.Random(seed)
        self.budget_seconds = session_minutes(profile) * 60
        self.families = families
        self.chosen: list[Prescription] = []

    def seconds(self, prescriptions: Sequence[Prescription] | None = None) -> int:
        ordered = flatten(order_routine(self.chosen if prescriptions is None else prescriptions))
        return ordered_seconds(ordered)

    def fits(self) -> bool:
        return self.seconds() <= self.budget_seconds

    def try_add(self, prescription: Prescription) -> bool:
        # the items' own time, without the changes of position between them, is already too
        # much: no order can fit it (the exact time below orders the routine, which costs more)
        if sum(item.seconds for item in self.chosen) + prescription.seconds > self.budget_seconds:
            return False
        ordered = flatten(order_routine([*self.chosen, prescription]))
        if ordered_seconds(ordered) > self.budget_seconds:
            return False
        if broken_limit(self.chosen, prescription, self.profile, self.families, ordered):
            return False
        self.chosen.append(prescription)
        return True

    def remaining(self) -> list[CatalogueEntry]:
        taken = {item.entry.slug for item in self.chosen}
        return [entry for entry in self.eligible if entry.slug not in taken]

    def shuffled(self, entries: Iterable[CatalogueEntry]) -> list[CatalogueEntry]:
        """Shuffled, then new movements before variants of chosen ones (a stable sort)."""
        candidates = list(entries)
        self.random.shuffle(candidates)
        chosen = {item.entry.slug for item in self.chosen}
        return sorted(candidates, key=lambda entry: not chosen.isdisjoint(entry.variants))

    def aerobic(self) -> Prescription | None:
        return next((item for item in self.chosen if item.is_aerobic), None)

    def covers(self, area: TargetArea) -> bool:
        return any(area in item.entry.target_areas for item in self.chosen)

    def add_first_fitting(
        self, candidates: Iterable[CatalogueEntry], block: BlockName | None, reason: ItemReason
    ) -> Prescription | None:
        for entry in candidates:
            added = self.add(entry, block, reason)
            if added is not None:
                return added
        return None

    def add(
        self, entry: CatalogueEntry, block: BlockName | None, reason: ItemReason
    ) -> Prescription | None:
        if entry.category is Category.aerobic:
            return self._add_aerobic(entry, reason)
        prescription = prescribe(entry, self.profile, block or block_for(entry), [reason])
        return prescription if self.try_add(prescription) else None

    def _add_aerobic(self, entry: CatalogueEntry, reason: ItemReason) -> Prescription | None:
        """Start at the smaller of the cited minutes and the aerobic share, shrinking to fit."""
        if self.aerobic() is not None:
            return None
        prescription = prescribe(entry, self.profile, BlockName.aerobic, [reason])
        assert prescription.duration_minutes is not None
        share = int(session_minutes(self.profile) * AEROBIC_SHARE)
        for minutes in range(
            min(prescription.duration_minutes, share), MINIMUM_AEROBIC_MINUTES - 1, -1
        ):
            prescription.duration_minutes = minutes
            if self.try_add(prescription):
                return prescription
        return None


def ordered_seconds(ordered: Sequence[Prescription]) -> int:
    return routine_seconds([item.seconds for item in ordered], [item.position for item in ordered])


def select(
    pool: Sequence[CatalogueEntry], profile: Profile, seed: int, families: VariantFamilies
) -> list[Prescription]:
    """The first attempt that fills the target share of the time, else the fullest attempt,
    from `pool` (`candidate_pool`)."""
    eligible = pool
    attempt_seeds = random.Random(seed)
    target = FILL_TARGET * session_minutes(profile) * 60
    best: RoutineBuilder | None = None
    for attempt in range(SELECTION_ATTEMPTS):
        attempt_seed = seed if attempt == 0 else attempt_seeds.getrandbits(32)
        builder = build(eligible, profile, attempt_seed, families)
        if best is None or builder.seconds() > best.seconds():
            best = builder
        if best.seconds() >= target:
            break
    assert best is not None
    return best.chosen


def build(
    eligible: Sequence[CatalogueEntry], profile: Profile, seed: int, families: VariantFamilies
) -> RoutineBuilder:
    builder = RoutineBuilder(eligible, profile, seed, families)
    add_indicated_direction(builder)
    add_target_areas(builder)
    add_aerobic(builder)
    add_balance(builder)
    add_cool_down(builder)
    add_the_rest(builder)
    raise_sets(builder)
    lengthen_aerobic(builder)
    return builder


def add_indicated_direction(builder: RoutineBuilder) -> None:
    sensitivity = builder.profile.sensitivity
    motion = INDICATED_MOTIONS.get(sensitivity)
    if motion is None:
        return
    candidates = builder.shuffled(
        entry for entry in builder.remaining() if entry.spinal_motion is motion
    )
    candidates.sort(key=lambda entry: entry.level.rank)
    reason = ItemReason(
        code=SelectionCode.indicated_direction,
        rule=INDICATED_RULES[sensitivity],
        detail=INDICATED_REASONS[sensitivity],
    )
    added = builder.add_first_fitting(candidates, BlockName.warm_up, reason)
    if added is not None:
        added.indicated = True


def add_target_areas(builder: RoutineBuilder) -> None:
    requested = list(dict.fromkeys(builder.profile.target_areas))
    for area in requested:
        if builder.covers(area):
            continue
        uncovered = {other for other in requested if not builder.covers(other)}
        candidates = builder.shuffled(
            entry for entry in builder.remaining() if area in entry.target_areas
        )
        candidates.sort(key=lambda entry: -len(uncovered.intersection(entry.target_areas)))
        reason = ItemReason(
            code=SelectionCode.target_area,
            rule=RuleId.target_area,
            detail=f"Covers an area you asked for: {area.value.replace('_', ' ')}.",
        )
        builder.add_first_fitting(candidates, None, reason)


def add_aerobic(builder: RoutineBuilder) -> None:
    if not builder.profile.wants_aerobic or builder.aerobic() is not None:
        return
    candidates = builder.shuffled(
        entry for entry in builder.remaining() if entry.category is Category.aerobic
    )
    reason = ItemReason(
        code=SelectionCode.balance,
        rule=RuleId.aerobic_requested,
        detail="You asked for aerobic exercise.",
    )
    builder.add_first_fitting(candidates, BlockName.aerobic, reason)


def add_balance(builder: RoutineBuilder) -> None:
    for block in BALANCE_BLOCKS:
        if any(item.block is block and not item.indicated for item in builder.chosen):
            continue
        candidates = builder.shuffled(
            entry for entry in builder.remaining() if block_for(entry) is block
        )
        reason = ItemReason(
            code=SelectionCode.balance,
            rule=RuleId.balance,
            detail=f"Keeps the routine balanced: {block.value.replace('_', '-')} work.",
        )
        builder.add_first_fitting(candidates, block, reason)


def add_cool_down(builder: RoutineBuilder) -> None:
    """A gentle stretch to finish, in the position the routine ends in when one is available."""
    ordered = flatten(order_routine(builder.chosen))
    last_position = ordered[-1].position if ordered else None
    candidates = builder.shuffled(
        entry
        for entry in builder.remaining()
        if entry.category is Category.stretch and entry.level is Level.beginner
    )
    candidates.sort(key=lambda entry: entry.position is not last_position)
    reason = ItemReason(
        code=SelectionCode.cool_down,
        rule=RuleId.cool_down,
        detail="A gentle stretch to finish the routine.",
    )
    builder.add_first_fitting(candidates, BlockName.cool_down, reason)


def add_the_rest(builder: RoutineBuilder) -> None:
    queues = [
        builder.shuffled(entry for entry in builder.remaining() if block_for(entry) is block)
        for block in (BlockName.mobility, BlockName.strength, BlockName.warm_up)
    ]
    reason = ItemReason(
        code=SelectionCode.fill,
        rule=RuleId.fill,
        detail="Added to use the time you have, keeping mobility and strength work balanced.",
    )
    misses = 0
    while any(queues) and misses < MAXIMUM_MISSES:
        for queue in queues:
            if queue:
                added = builder.add(queue.pop(0), None, reason)
                misses = 0 if added is not None else misses + 1


def raise_sets(builder: RoutineBuilder) -> None:
    """One more set at a time, in priority order, round after round, while the time allows;
    never in the acute phase (`Prescription.maximum_sets`)."""
    if builder.profile.phase is Phase.acute:
        return
    raised = True
    while raised:
        raised = False
        for item in builder.chosen:
            if item.is_aerobic or item.sets >= item.maximum_sets:
                continue
            item.sets += 1
            if builder.fits():
                raised = True
            else:
                item.sets -= 1


def lengthen_aerobic(builder: RoutineBuilder) -> None:
    """Whole minutes left over go to the aerobic activity, up to its cited duration."""
    item = builder.aerobic()
    if item is None or item.duration_minutes is None:
        return
    cited = item.dosage.duration_minutes or item.duration_minutes
    while item.duration_minutes < cited:
        item.duration_minutes += 1
        if not builder.fits():
            item.duration_minutes -= 1
            return
