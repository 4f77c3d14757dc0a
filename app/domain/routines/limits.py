"""Limits on the routine as a whole: an exercise can suit the person and still be kept out by
what is already in the routine. Each limit names its rule in `rules.py`.

- At most two variants of the same stretch (variants are linked in the catalogue; a family is
  everything linked, directly or through another variant).
- With leg symptoms, at most two exercises that tension the sciatic nerve, and never two of one
  family (the assisted and the strap straight leg raise). Read from the exercise record
  (`tensions_sciatic_nerve`), so newly marked exercises are counted too.
- Aerobic work aside, the session goes down to the floor (or onto a bed) at most once.
"""

from collections.abc import Iterable, Sequence

from app.domain.catalogue import CatalogueEntry
from app.domain.routines.ordering import flatten, order_routine
from app.domain.routines.prescription import Prescription
from app.domain.routines.profile import Profile
from app.domain.routines.rules import RuleId
from app.domain.routines.timing import FLOOR_POSITIONS

MAXIMUM_VARIANTS = 2
MAXIMUM_NERVE_TENSIONING = 2
MAXIMUM_FLOOR_DESCENTS = 1

LIMIT_DETAILS: dict[RuleId, str] = {
    RuleId.variants_at_most_two: (
        "Two variants of this stretch are already in the routine; a routine holds at most two."
    ),
    RuleId.nerve_tension_at_most_two: (
        "With pain in your leg, a routine holds at most two stretches that pull on the sciatic "
        "nerve, and two are already in."
    ),
    RuleId.one_nerve_tension_variant: (
        "With pain in your leg, a routine holds one of these nerve stretches, and a variant of "
        "it is already in."
    ),
    RuleId.floor_once: (
        "It would take you down to the floor a second time in one session; the routine keeps "
        "its floor work together."
    ),
}
"""What each limit says, to the person, about the exercise it keeps out (or, in a program a
clinician builds, the exercise that breaks it)."""

VariantFamilies = dict[str, str]
"""Slug to the slug that names its family (the smallest slug in it)."""


def variant_families(entries: Iterable[CatalogueEntry]) -> VariantFamilies:
    """Connected groups of variant links, so a chain of variants counts as one stretch."""
    parent: dict[str, str] = {}

    def root(slug: str) -> str:
        parent.setdefault(slug, slug)
        while parent[slug] != slug:
            parent[slug] = parent[parent[slug]]
            slug = parent[slug]
        return slug

    for entry in entries:
        for variant in entry.variants:
            first, second = sorted((root(entry.slug), root(variant)))
            parent[second] = first
    return {slug: root(slug) for slug in list(parent)}


def family_of(slug: str, families: VariantFamilies) -> str:
    return families.get(slug, slug)


def floor_descents(prescriptions: Sequence[Prescription]) -> int:
    """How many times the ordered session goes down to the floor, aerobic work aside."""
    positions = [item.position for item in prescriptions if not item.is_aerobic]
    return sum(
        1
        for index, position in enumerate(positions)
        if position in FLOOR_POSITIONS
        and (index == 0 or positions[index - 1] not in FLOOR_POSITIONS)
    )


def broken_limit(
    chosen: Sequence[Prescription],
    candidate: Prescription,
    profile: Profile,
    families: VariantFamilies,
    ordered: Sequence[Prescription] | None = None,
) -> RuleId | None:
    """The first routine-wide limit adding `candidate` to `chosen` would break, if any.
    `ordered` is the routine with the candidate, in order, when the caller has it already."""
    family = family_of(candidate.entry.slug, families)
    same_family = [item for item in chosen if family_of(item.entry.slug, families) == family]
    if len(same_family) >= MAXIMUM_VARIANTS:
        return RuleId.variants_at_most_two
    if profile.leg_symptoms and candidate.entry.tensions_sciatic_nerve:
        tensioning = [item for item in chosen if item.entry.tensions_sciatic_nerve]
        if len(tensioning) >= MAXIMUM_NERVE_TENSIONING:
            return RuleId.nerve_tension_at_most_two
        family_slugs = {item.entry.slug for item in same_family}
        if any(item.entry.slug in family_slugs for item in tensioning):
            return RuleId.one_nerve_tension_variant
    if ordered is None:
        ordered = flatten(order_routine([*chosen, candidate]))
    if floor_descents(ordered) > MAXIMUM_FLOOR_DESCENTS:
        return RuleId.floor_once
    return None
