"""Who may do which exercise, for one profile, in one cheap pass over the catalogue.

The eligibility rules (`eligibility.py`) read only a few fields of an exercise: its flags and
spinal motion, level, equipment, position, whether it can be done on a bed or needs a helper, its
impact and whether it is aerobic. A catalogue of any size holds far fewer distinct combinations of
these than exercises, so each snapshot groups its exercises by them once (kept while the snapshot
lives), and a profile is judged once per group: which rules a group breaks is the same for every
exercise in it. The detailed reasons, whose wording can quote an exercise's own contraindication,
are written only for the exercises a routine shows (`Verdicts.reasons`).
"""

import threading
import weakref
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from app.domain.catalogue import Catalogue, CatalogueEntry
from app.domain.exercise import Exercise
from app.domain.routines.eligibility import exclusion_reasons, rule_ids
from app.domain.routines.limits import VariantFamilies, variant_families
from app.domain.routines.model import ExclusionReason
from app.domain.routines.profile import Profile
from app.domain.routines.rules import RuleId
from app.domain.vocabulary import Category


def eligibility_key(exercise: Exercise) -> tuple[object, ...]:
    """Everything the eligibility rules read to decide (not to word) an exclusion."""
    return (
        exercise.contraindicated_for,
        exercise.spinal_motion,
        exercise.level,
        tuple(exercise.equipment),
        exercise.position,
        exercise.bed_friendly,
        exercise.needs_helper,
        exercise.impact,
        exercise.category is Category.aerobic,
    )


@dataclass(frozen=True)
class EligibilityGroup:
    """Exercises the eligibility rules cannot tell apart: `members` in slug order."""

    representative: Exercise
    members: list[CatalogueEntry]


@dataclass(frozen=True)
class CatalogueRoutineIndex:
    """What routines need from one catalogue snapshot, built once per snapshot."""

    revision: int
    groups: list[EligibilityGroup]
    positions: dict[str, int]
    """Each published exercise's place in the snapshot's slug order."""
    families: VariantFamilies


_indexes: "weakref.WeakKeyDictionary[Catalogue, CatalogueRoutineIndex]" = (
    weakref.WeakKeyDictionary()
)
_indexes_lock = threading.Lock()


def routine_index(catalogue: Catalogue) -> CatalogueRoutineIndex:
    """The snapshot's routine index, built on first use (in a worker thread: generation never
    runs on the event loop) and rebuilt if the snapshot's revision moves."""
    with _indexes_lock:
        index = _indexes.get(catalogue)
    if index is not None and index.revision == catalogue.revision:
        return index
    index = build_routine_index(catalogue)
    with _indexes_lock:
        _indexes[catalogue] = index
    return index


def build_routine_index(catalogue: Catalogue) -> CatalogueRoutineIndex:
    grouped: dict[tuple[object, ...], EligibilityGroup] = {}
    for entry in catalogue.entries:
        key = eligibility_key(entry.exercise)
        group = grouped.get(key)
        if group is None:
            grouped[key] = EligibilityGroup(entry.exercise, [entry])
        else:
            group.members.append(entry)
    return CatalogueRoutineIndex(
        revision=catalogue.revision,
        groups=list(grouped.values()),
        positions={entry.slug: position for position, entry in enumerate(catalogue.entries)},
        families=variant_families(catalogue.entries),
    )


class Verdicts:
    """The eligibility of every exercise of a catalogue for one profile."""

    def __init__(self, catalogue: Catalogue, profile: Profile) -> None:
        index = routine_index(catalogue)
        self.profile = profile
        self.families = index.families
        self._positions = index.positions
        self._judged = [(group, rule_ids(group.representative, profile)) for group in index.groups]
        eligible = [entry for group, rules in self._judged if not rules for entry in group.members]
        eligible.sort(key=lambda entry: self._positions[entry.slug])
        self.eligible = eligible
        """The exercises the person may do, in slug order."""

    def reasons(self, entry: CatalogueEntry) -> list[ExclusionReason]:
        """Why `entry` is kept out, worded for this exercise (empty: eligible)."""
        return exclusion_reasons(entry, self.profile)

    def ineligible(self) -> Iterator[tuple[CatalogueEntry, tuple[RuleId, ...]]]:
        """Every exercise the person may not do, with the rules it breaks, group by group."""
        for group, rules in self._judged:
            if rules:
                for entry in group.members:
                    yield entry, rules

    def rule_counts(self) -> Counter[RuleId]:
        """How many exercises break each eligibility rule (one may break several)."""
        counts: Counter[RuleId] = Counter()
        for group, rules in self._judged:
            for rule in rules:
                counts[rule] += len(group.members)
        return counts

    def ineligible_count(self) -> int:
        return sum(len(group.members) for group, rules in self._judged if rules)
