"""The rules registry: every rule the engine, the red flags and the feedback apply has one entry,
with its basis; a rule used in code without an entry fails here."""

import pytest
from seeded import SEED_DIR

from app.content.bundle import load_seed_directory
from app.domain.routines import (
    ExclusionCode,
    RedFlag,
    RedFlagId,
    SelectionCode,
)
from app.domain.routines.feedback import RULE_TEXTS
from app.domain.routines.red_flags import RED_FLAGS, SCREENING_LISTS
from app.domain.routines.rules import (
    ROUTINE_RULES,
    RULES_BY_ID,
    Basis,
    RuleArea,
    RuleId,
    red_flag_rule,
)


def test_every_rule_id_has_exactly_one_entry() -> None:
    ids = [rule.id for rule in ROUTINE_RULES]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(RuleId)


@pytest.mark.parametrize("code", [*SelectionCode, *ExclusionCode])
def test_every_reason_code_is_backed_by_a_rule(code: SelectionCode | ExclusionCode) -> None:
    assert any(rule.code == code.value for rule in ROUTINE_RULES)


def test_rule_codes_are_reason_codes() -> None:
    codes = {code.value for code in SelectionCode} | {code.value for code in ExclusionCode}
    assert {rule.code for rule in ROUTINE_RULES if rule.code is not None} <= codes


@pytest.mark.parametrize("feedback_rule", list(RULE_TEXTS))
def test_every_feedback_rule_is_registered_with_the_same_words(feedback_rule: RuleId) -> None:
    rule = RULES_BY_ID[feedback_rule]
    assert rule.area is RuleArea.feedback
    assert rule.text == RULE_TEXTS[feedback_rule]


@pytest.mark.parametrize("flag", RED_FLAGS, ids=lambda flag: flag.id.value)
def test_every_red_flag_is_registered_with_its_origin(flag: RedFlag) -> None:
    rule = RULES_BY_ID[red_flag_rule(flag.id.value)]
    assert rule.area is RuleArea.red_flag
    if flag.origin == SCREENING_LISTS:
        assert rule.basis is Basis.design_choice
    else:
        assert rule.basis is Basis.source
        assert {quote.source for quote in rule.quotes} == {flag.origin}


def test_every_basis_is_stated_and_cites_known_sources() -> None:
    sources = {source.id for source in load_seed_directory(SEED_DIR).sources}
    for rule in ROUTINE_RULES:
        assert rule.text.strip()
        if rule.basis is Basis.design_choice:
            assert rule.why
        else:
            assert rule.quotes
        for quote in rule.quotes:
            assert quote.source in sources, rule.id
            assert quote.words.strip()


@pytest.mark.parametrize("flag_id", list(RedFlagId))
def test_every_red_flag_id_has_a_rule(flag_id: RedFlagId) -> None:
    assert RULES_BY_ID[red_flag_rule(flag_id.value)].area is RuleArea.red_flag
