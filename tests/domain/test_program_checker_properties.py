"""The engine passes its own checker, and the checker names the rule a mutation breaks.

The routines are the 2,000 of `test_routine_safety_properties` (random profiles over the real
seeded catalogue, generated once per run and shared with that module). Every one, read as a
program, checks with no `block` or `warn` finding. Hypothesis then mutates them, 2,000 times a
run: swap in an exercise flagged for the person's back, raise a dose above what the sources
cite, or add nerve stretches up to a third with leg symptoms; the checker must name the rule
that mutation breaks, at the item it breaks it.
"""

from collections.abc import Sequence
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seeded import seeded_catalogue, seeded_exercise
from test_routine_safety_properties import plans

from app.domain.exercise import MOTION_FLAGS
from app.domain.routines import Phase, Profile, RoutinePlan
from app.domain.routines.checker import ProgramCheck, check_program
from app.domain.routines.eligibility import FLAGS_AVOIDED
from app.domain.routines.limits import variant_families
from app.domain.routines.profile import Sensitivity
from app.domain.routines.program import (
    Dose,
    Program,
    ProgramBlock,
    ProgramItem,
    item_pointer,
    program_of,
)
from app.domain.routines.rules import RuleId, Severity
from app.domain.vocabulary import Category

MUTATIONS_PER_RUN = 2000


def checked(profile: Profile, program: Program) -> ProgramCheck:
    return check_program(seeded_catalogue(), profile, program)


def test_every_generated_routine_checks_without_a_block_or_a_warning() -> None:
    generated = [(profile, plan) for profile, plan in plans() if plan.items]
    assert len(generated) >= 2000
    for profile, plan in generated:
        check = checked(profile, program_of(plan.model_dump(mode="json")["blocks"]))
        serious = [f for f in check.findings if f.severity is not Severity.info]
        assert not serious, (profile, serious)
        assert not check.blocking


def flagged_for(profile: Profile) -> list[str]:
    avoided = FLAGS_AVOIDED[profile.sensitivity]
    return [
        entry.slug
        for entry in seeded_catalogue().entries
        if avoided & entry.exercise.contraindicated_for
        and entry.exercise.category is not Category.aerobic
    ]


def expected_flag_rule(profile: Profile, slug: str) -> RuleId:
    """Restated from the record: unknown sensitivity has its own rule; otherwise the flag comes
    from the main motion (direction-flag) or from the set-up (flexion-in-set-up)."""
    if profile.sensitivity is Sensitivity.unknown:
        return RuleId.unknown_direction
    motion_flag = MOTION_FLAGS.get(seeded_exercise(slug).spinal_motion)
    if motion_flag in FLAGS_AVOIDED[profile.sensitivity]:
        return RuleId.direction_flag
    return RuleId.flexion_in_set_up


def replaced(program: Program, block: int, index: int, item: ProgramItem) -> Program:
    blocks = list(program.blocks)
    items = list(blocks[block].items)
    items[index] = item
    blocks[block] = ProgramBlock(name=blocks[block].name, items=items)
    return Program(blocks=blocks)


def appended(program: Program, items: Sequence[ProgramItem]) -> Program:
    return Program(blocks=[*program.blocks, ProgramBlock(name="added", items=list(items))])


def rules_at(check: ProgramCheck, pointer: str) -> dict[RuleId, Severity]:
    return {f.rule: f.severity for f in check.findings if f.pointer == pointer}


def positions(plan: RoutinePlan) -> list[tuple[int, int]]:
    return [(b, i) for b, block in enumerate(plan.blocks) for i in range(len(block.items))]


@cache
def flaggable() -> list[tuple[Profile, RoutinePlan]]:
    return [
        (profile, plan) for profile, plan in plans() if profile.sensitivity is not Sensitivity.none
    ]


@cache
def with_leg_symptoms() -> list[tuple[Profile, RoutinePlan]]:
    return [(profile, plan) for profile, plan in plans() if profile.leg_symptoms]


def swap_in_a_flagged_exercise(data: st.DataObject) -> None:
    profile, plan = data.draw(st.sampled_from(flaggable()), label="routine")
    program = program_of(plan.model_dump(mode="json")["blocks"])
    block, index = data.draw(st.sampled_from(positions(plan)), label="item")
    slug = data.draw(st.sampled_from(flagged_for(profile)), label="flagged")
    mutated = replaced(program, block, index, ProgramItem(exercise=slug, dose=Dose()))
    found = rules_at(checked(profile, mutated), item_pointer(block, index))
    assert found.get(expected_flag_rule(profile, slug)) is Severity.block, (slug, found)


def raise_a_dose(data: st.DataObject) -> None:
    profile, plan = data.draw(st.sampled_from(plans()), label="routine")
    block, index = data.draw(st.sampled_from(positions(plan)), label="item")
    item = plan.blocks[block].items[index]
    program = program_of(plan.model_dump(mode="json")["blocks"])
    dose = program.blocks[block].items[index].dose
    dosages = seeded_exercise(item.exercise.slug).dosages
    pointer = item_pointer(block, index) + "/dose/"
    if item.duration_minutes is not None:
        cited = max(d.duration_minutes or 30 for d in dosages)
        raised = dose.model_copy(update={"minutes": data.draw(st.integers(cited + 1, 90))})
        part, expected = "minutes", {RuleId.dose_above_cited}
    else:
        part = data.draw(st.sampled_from(["sets", "repetitions", "hold_seconds"]), label="part")
        if part == "sets":
            uncited = {
                RuleId.no_extra_sets_acute if profile.phase is Phase.acute else RuleId.sets_raised
            }
            expected = (
                {RuleId.sets_cited}
                if all(d.sets for d in dosages)
                else uncited
                if not any(d.sets for d in dosages)
                else {RuleId.sets_cited, *uncited}
            )
            value = data.draw(st.integers(max(d.sets or 2 for d in dosages) + 1, 20))
        elif part == "repetitions":
            expected = {RuleId.dose_above_cited}
            value = data.draw(st.integers(max(d.reps or 5 for d in dosages) + 1, 100))
        else:
            expected = {RuleId.dose_above_cited}
            longest = max(d.hold_seconds_max or d.hold_seconds or 0 for d in dosages)
            value = data.draw(st.integers(longest + 1, 600))
        raised = dose.model_copy(update={part: value})
    mutated = replaced(
        program,
        block,
        index,
        program.blocks[block].items[index].model_copy(update={"dose": raised}),
    )
    found = rules_at(checked(profile, mutated), pointer + part)
    assert set(found) & expected, (part, found, expected)
    assert all(found[rule] is Severity.warn for rule in set(found) & expected)


def add_a_third_nerve_stretch(data: st.DataObject) -> None:
    profile, plan = data.draw(st.sampled_from(with_leg_symptoms()), label="routine")
    program = program_of(plan.model_dump(mode="json")["blocks"])
    present = [item.exercise.slug for item in plan.items]
    tensioning = [slug for slug in present if seeded_exercise(slug).tensions_sciatic_nerve]
    candidates = [
        entry.slug
        for entry in seeded_catalogue().entries
        if entry.exercise.tensions_sciatic_nerve and entry.slug not in present
    ]
    added = data.draw(st.permutations(candidates), label="added")[: 3 - len(tensioning)]
    mutated = appended(program, [ProgramItem(exercise=slug, dose=Dose()) for slug in added])
    third = added[-1]
    families = variant_families(seeded_catalogue().entries)
    in_program = [*present, *added[:-1]]
    family = [slug for slug in in_program if families.get(slug, slug) == families.get(third, third)]
    if len(family) >= 2:
        expected = RuleId.variants_at_most_two
    elif len([slug for slug in in_program if seeded_exercise(slug).tensions_sciatic_nerve]) >= 2:
        expected = RuleId.nerve_tension_at_most_two
    else:
        expected = RuleId.one_nerve_tension_variant
    pointer = item_pointer(len(mutated.blocks) - 1, len(added) - 1)
    found = rules_at(checked(profile, mutated), pointer)
    assert found.get(expected) is Severity.warn, (added, found, expected)


MUTATIONS = {
    "swap in a flagged exercise": swap_in_a_flagged_exercise,
    "raise a dose": raise_a_dose,
    "add a third nerve stretch": add_a_third_nerve_stretch,
}


@settings(
    max_examples=MUTATIONS_PER_RUN,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutation=st.sampled_from(sorted(MUTATIONS)), data=st.data())
def test_the_checker_names_the_rule_a_mutation_breaks(mutation: str, data: st.DataObject) -> None:
    MUTATIONS[mutation](data)
