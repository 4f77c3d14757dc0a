"""Who may do which exercise, for one profile, judged group by group, never exercise by exercise.

The eligibility rules (`eligibility.py`) read only a few facts of an exercise: its flags and
spinal motion, level, equipment, position, whether it can be done on a bed or needs a helper, its
impact and its category. A catalogue of any size holds far fewer distinct combinations of these
than exercises, so each snapshot keeps its exercises grouped by them (`RoutineIndex`, kept on the
snapshot and carried to the following ones with only the changed exercises moved), and a profile
is judged once per group: which rules a group breaks is the same for every exercise in it. Counts
come from the groups' sizes; lists (the candidates a routine draws from, the exercises a sentence
names) from the groups' slug-ordered members, a few at a time. The detailed reasons, whose
wording can quote an exercise's own contraindication, are written only for the exercises a
routine shows (`Verdicts.reasons`).
"""

import heapq
import itertools
from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

from app.domain.catalogue import Catalogue, CatalogueEntry
from app.domain.routines.eligibility import exclusion_reasons, rule_ids
from app.domain.routines.limits import VariantFamilies, variant_families
from app.domain.routines.model import ExclusionReason
from app.domain.routines.profile import Profile
from app.domain.routines.rules import RuleId
from app.domain.vocabulary import TargetArea

EligibilityKey = tuple[object, ...]


def eligibility_key(entry: CatalogueEntry) -> EligibilityKey:
    """Everything the eligibility rules read to decide (not to word) an exclusion, and the
    category (which block an exercise goes in)."""
    return (
        entry.contraindicated_for,
        entry.spinal_motion,
        entry.level,
        entry.equipment,
        entry.position,
        entry.bed_friendly,
        entry.needs_helper,
        entry.impact,
        entry.category,
    )


@dataclass(frozen=True)
class EligibilityGroup:
    """Exercises the eligibility rules cannot tell apart: `members` in slug order, and those
    working each target area (`by_area`), in slug order too. Never changed once made: an edit
    makes a new group for the following snapshot."""

    representative: CatalogueEntry
    members: list[str]
    by_area: dict[TargetArea, list[str]]

    @property
    def first(self) -> str:
        """What orders groups, whatever order they were made in (groups share no member)."""
        return self.members[0]


Judged = list[tuple[EligibilityGroup, tuple[RuleId, ...]]]

JUDGEMENTS_KEPT = 64
"""Profiles whose judgement of the groups a snapshot's index keeps (a seed changes nothing)."""


@dataclass(frozen=True)
class RoutineIndex:
    """What routines need from one catalogue snapshot."""

    groups: dict[EligibilityKey, EligibilityGroup]
    families: VariantFamilies
    linked: frozenset[str]
    """The exercises that name variants (what `families` is made from)."""
    family_members: dict[str, frozenset[str]]
    """Each family (by its root, as `families` names it) with its members."""
    judgements: dict[str, Judged] = field(default_factory=dict, compare=False)
    """Each group with the rules it breaks, per profile (its JSON less the seed), ordered by
    the groups' first members: the rules read nothing else, so another seed judges nothing."""

    def judged(self, profile: Profile) -> Judged:
        key = profile.model_dump_json(exclude={"seed"})
        judged = self.judgements.get(key)
        if judged is None:
            groups = self.groups.values()
            judged = [(group, rule_ids(group.representative, profile)) for group in groups]
            judged.sort(key=lambda pair: pair[0].first)
            if len(self.judgements) >= JUDGEMENTS_KEPT:
                self.judgements.clear()
            self.judgements[key] = judged
        return judged


def build_routine_index(catalogue: Catalogue) -> RoutineIndex:
    members: dict[EligibilityKey, list[CatalogueEntry]] = {}
    for entry in catalogue.entries:
        members.setdefault(eligibility_key(entry), []).append(entry)
    linked = frozenset(entry.slug for entry in catalogue.entries if entry.variants)
    families = variant_families(catalogue.by_slug[slug] for slug in sorted(linked))
    return RoutineIndex(
        groups={key: grouped(entries) for key, entries in members.items()},
        families=families,
        linked=linked,
        family_members=members_by_family(families),
    )


def members_by_family(families: VariantFamilies) -> dict[str, frozenset[str]]:
    members: dict[str, set[str]] = {}
    for slug, root in families.items():
        members.setdefault(root, set()).add(slug)
    return {root: frozenset(slugs) for root, slugs in members.items()}


def grouped(entries: Sequence[CatalogueEntry]) -> EligibilityGroup:
    """A group of `entries` (in slug order)."""
    by_area: dict[TargetArea, list[str]] = {}
    for entry in entries:
        for area in entry.target_areas:
            by_area.setdefault(area, []).append(entry.slug)
    return EligibilityGroup(entries[0], [entry.slug for entry in entries], by_area)


def follow_routine_index(index: RoutineIndex, following: Catalogue) -> RoutineIndex:
    """The index of the following snapshot: each changed exercise leaves its group and joins
    its new one (only those groups are copied); the variant families are made again only when
    a changed exercise names variants or did."""
    changed = following.changed_slugs or frozenset()
    groups = dict(index.groups)
    touched: dict[EligibilityKey, list[str]] = {}
    for slug in sorted(changed):
        for key, group in groups.items():
            members = touched.get(key, group.members)
            place = bisect_left(members, slug)
            if place < len(members) and members[place] == slug:
                if key not in touched:
                    members = touched[key] = list(members)
                del members[place]
                break
        entry = following.get(slug)
        if entry is not None:
            key = eligibility_key(entry)
            if key not in touched:
                touched[key] = list(groups[key].members) if key in groups else []
            insort(touched[key], slug)
    for key, slugs in touched.items():
        if slugs:
            groups[key] = grouped([following.by_slug[slug] for slug in slugs])
        else:
            groups.pop(key, None)
    now_linked = {slug for slug in changed if (entry := following.get(slug)) and entry.variants}
    if not (changed & index.linked) and not now_linked:
        return replace(index, groups=groups, judgements={})
    return follow_families(
        replace(index, groups=groups, judgements={}), changed, now_linked, following
    )


def follow_families(
    index: RoutineIndex, changed: frozenset[str], now_linked: set[str], following: Catalogue
) -> RoutineIndex:
    """The variant families after `changed`: only the families a changed exercise was in, or
    now links into, are made again (from their members' links), the others kept as they were.
    A family's root is its first slug, so the families made again name the same roots a whole
    rebuild would."""
    linked = (index.linked - changed) | now_linked
    reached = set(changed)
    for slug in now_linked:
        reached.update(following.by_slug[slug].variants)
    roots = {index.families[slug] for slug in reached if slug in index.families}
    affected = set(reached)
    for root in roots:
        affected |= index.family_members[root]
    remade = variant_families(following.by_slug[slug] for slug in sorted(affected & linked))
    families = dict(index.families)
    for slug in affected:
        families.pop(slug, None)
    families.update(remade)
    family_members = dict(index.family_members)
    for root in roots:
        del family_members[root]
    family_members.update(members_by_family(remade))
    return replace(
        index, families=families, linked=frozenset(linked), family_members=family_members
    )


def routine_index(catalogue: Catalogue) -> RoutineIndex:
    """The snapshot's routine index: built on first use (in a worker thread: generation never
    runs on the event loop), then carried to each following snapshot by its refresh."""
    return catalogue.kept("routines", build_routine_index, follow_routine_index)


def first_slugs(groups: Iterable[EligibilityGroup], count: int) -> list[str]:
    """The first `count` slugs, in slug order, of the members of `groups`."""
    return list(itertools.islice(heapq.merge(*(group.members for group in groups)), count))


class Verdicts:
    """The eligibility of every exercise of a catalogue for one profile, group by group."""

    def __init__(self, catalogue: Catalogue, profile: Profile) -> None:
        index = routine_index(catalogue)
        self.catalogue = catalogue
        self.profile = profile
        self.families = index.families
        judged = index.judged(profile)
        self._judged = judged
        self.eligible_groups = [group for group, rules in judged if not rules]
        """The groups of exercises the person may do, ordered by their first member."""
        self.eligible_count = sum(len(group.members) for group in self.eligible_groups)

    @cached_property
    def eligible(self) -> list[CatalogueEntry]:
        """Every exercise the person may do, in slug order (as many as there are: read it where
        they are few, see `selection.candidate_pool`)."""
        by_slug = self.catalogue.by_slug
        return [by_slug[slug] for slug in heapq.merge(*(g.members for g in self.eligible_groups))]

    def reasons(self, entry: CatalogueEntry) -> list[ExclusionReason]:
        """Why `entry` is kept out, worded for this exercise (empty: eligible)."""
        return exclusion_reasons(entry, self.profile)

    def ineligible_groups(self) -> Iterator[tuple[EligibilityGroup, tuple[RuleId, ...]]]:
        """Every group the person may not do, with the rules it breaks."""
        for group, rules in self._judged:
            if rules:
                yield group, rules

    def groups(self, keep: Callable[[CatalogueEntry], bool]) -> list[EligibilityGroup]:
        """Every group, eligible or not, whose representative `keep` accepts (a fact every
        member shares: its motion, its category)."""
        return [group for group, _ in self._judged if keep(group.representative)]

    def rule_counts(self) -> Counter[RuleId]:
        """How many exercises break each eligibility rule (one may break several)."""
        counts: Counter[RuleId] = Counter()
        for group, rules in self._judged:
            for rule in rules:
                counts[rule] += len(group.members)
        return counts

    def ineligible_count(self) -> int:
        return sum(len(group.members) for group, rules in self._judged if rules)
