"""Through HTTP, on both stores: the rules registry and the engine's safety rules, one
worked example per rule."""

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from app.domain.routines.rules import RuleId

ExcludedOf = Callable[[TestClient, dict[str, Any]], list[dict[str, Any]]]
"""The `excluded_of` fixture: every exercise a routine leaves out, paged."""
PROBLEM = "application/problem+json"
UPRIGHT_OR_WATER = {"standing", "seated", "in_water"}
NERVE_RAISES = {"assisted-straight-leg-raise", "strap-straight-leg-raise"}


def create(client: TestClient, **profile: Any) -> dict[str, Any]:
    response = client.post("/v1/routines", json={"seed": 0, **profile})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def items(routine: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for block in routine["blocks"] for item in block["items"]]


def item(routine: dict[str, Any], slug: str) -> dict[str, Any]:
    return next(found for found in items(routine) if found["exercise"]["slug"] == slug)


def rules_of(entry: dict[str, Any]) -> set[str]:
    return {reason["rule"] for reason in entry["reasons"]}


def excluded_rules(left_out: list[dict[str, Any]], slug: str) -> set[str]:
    exclusion = next(found for found in left_out if found["slug"] == slug)
    return rules_of(exclusion)


def listed_rules(client: TestClient) -> dict[str, dict[str, Any]]:
    response = client.get("/v1/routine-rules")
    assert response.status_code == 200
    return {rule["id"]: rule for rule in response.json()["items"]}


def test_every_rule_is_listed_with_its_basis(client: TestClient) -> None:
    rules = listed_rules(client)
    assert set(rules) == {rule.value for rule in RuleId}
    for rule in rules.values():
        assert rule["text"]
        assert rule["basis"] in {"source", "design_choice"}
        if rule["basis"] == "source":
            assert all(quote["source"] and quote["words"] for quote in rule["quotes"])
            assert rule["quotes"]
        else:
            assert rule["why"]
    assert rules["acute-session-length"]["basis"] == "design_choice"
    assert rules["aerobic-frequency"]["quotes"][0]["source"] == "physical-therapy-for-back-pain"


def test_the_rules_list_rejects_unknown_parameters(client: TestClient) -> None:
    response = client.get("/v1/routine-rules", params={"page": 2})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(PROBLEM)


def test_every_reason_in_a_routine_and_its_feedback_names_a_listed_rule(
    client: TestClient, excluded_of: ExcludedOf
) -> None:
    rules = listed_rules(client)
    routine = create(
        client,
        sensitivity="flexion_sensitive",
        level="advanced",
        available_equipment=["bed", "strap", "bicycle"],
        can_get_on_floor=False,
        include_aerobic=True,
        leg_symptoms=True,
        phase="recovering",
        minutes=45,
    )
    used = {reason["rule"] for entry in items(routine) for reason in entry["reasons"]}
    left_out = excluded_of(client, routine)
    used |= {reason["rule"] for entry in left_out for reason in entry["reasons"]}
    used |= set(routine["frequency"]["rules"])
    assert used <= set(rules)
    feedback = client.post(
        f"/v1/routines/{routine['id']}/feedback",
        json={"pain_before": 3, "pain_after": 3, "completed": True, "difficulty": "right"},
        headers={"Authorization": f"Bearer {routine['delete_token']}"},
    )
    assert feedback.status_code == 201
    assert feedback.json()["rule"]["id"] in rules


def test_leg_symptoms_limit_the_nerve_stretches_and_keep_the_pull_gentle(
    client: TestClient, excluded_of: ExcludedOf
) -> None:
    routine = create(
        client,
        level="intermediate",
        helper_available=True,
        available_equipment=["strap"],
        target_areas=["sciatic_nerve"],
        leg_symptoms=True,
        phase="recovering",
        minutes=40,
    )
    slugs = {entry["exercise"]["slug"] for entry in items(routine)}
    tensioning = [
        entry for entry in items(routine) if "leg-symptoms-gentle-pull" in rules_of(entry)
    ]
    assert len(tensioning) == 2
    chosen_raise = slugs & NERVE_RAISES
    assert len(chosen_raise) == 1
    (other,) = NERVE_RAISES - chosen_raise
    assert excluded_rules(excluded_of(client, routine), other) <= {
        "one-nerve-tension-variant",
        "nerve-tension-at-most-two",
    }
    limited = {rule for entry in excluded_of(client, routine) for rule in rules_of(entry)}
    assert "nerve-tension-at-most-two" in limited
    cue = next(
        reason["detail"]
        for reason in item(routine, chosen_raise.pop())["reasons"]
        if reason["rule"] == "leg-symptoms-gentle-pull"
    )
    assert "only to a gentle pull; stop if the leg pain increases or spreads" in cue
    for entry in items(routine):
        for text in entry["exercise"]["steps"] + entry["exercise"]["cautions"]:
            assert "strong pull" not in text


def test_an_acute_session_is_short_and_done_three_times_a_day(client: TestClient) -> None:
    routine = create(client, phase="acute", minutes=30)
    assert routine["session_minutes"] == 15
    assert routine["estimated_minutes"] <= 15
    assert routine["frequency"]["times_per_day"] == 3
    assert "design choice" in routine["explanation"]
    assert "acute-session-length" in routine["frequency"]["rules"]
    assert all(
        entry["sets"] == (entry["exercise"]["dosage"]["sets"] or 1) for entry in items(routine)
    )


def test_a_longer_session_is_done_once_a_day_and_aerobic_has_its_own_frequency(
    client: TestClient,
) -> None:
    routine = create(
        client,
        phase="recovering",
        minutes=40,
        include_aerobic=True,
        available_equipment=["bicycle"],
    )
    frequency = routine["frequency"]
    assert routine["estimated_minutes"] > 15
    assert frequency["times_per_day"] == 1
    assert "long-session-once-a-day" in frequency["rules"]
    assert frequency["aerobic_times_per_week"] == 3
    assert frequency["aerobic_minutes"] == 30
    assert "three times a day" not in frequency["aerobic"].lower()


def test_sets_rise_only_outside_the_acute_phase_and_say_it_is_a_design_choice(
    client: TestClient,
) -> None:
    routine = create(client, sensitivity="none", level="advanced", phase="maintenance", minutes=60)
    raised = [entry for entry in items(routine) if "sets-raised" in rules_of(entry)]
    assert raised
    for entry in items(routine):
        cited = entry["exercise"]["dosage"]["sets"]
        assert entry["sets"] == cited if cited else entry["sets"] <= 2
    for entry in raised:
        detail = next(r["detail"] for r in entry["reasons"] if r["rule"] == "sets-raised")
        assert "design choice" in detail


def test_at_most_two_variants_of_one_stretch(client: TestClient, excluded_of: ExcludedOf) -> None:
    hamstrings = {
        "active-hamstring-stretch",
        "supine-hamstring-stretch",
        "seated-hamstring-stretch",
    }
    routine = create(
        client,
        sensitivity="none",
        level="advanced",
        phase="maintenance",
        minutes=90,
        target_areas=["hamstrings"],
        available_equipment=["mat", "wall"],
    )
    chosen = {entry["exercise"]["slug"] for entry in items(routine)} & hamstrings
    assert len(chosen) == 2
    (left_out,) = hamstrings - chosen
    assert excluded_rules(excluded_of(client, routine), left_out) == {"variants-at-most-two"}


def test_on_a_bed_the_instruction_follows_the_position(
    client: TestClient, excluded_of: ExcludedOf
) -> None:
    routine = create(
        client,
        sensitivity="none",
        level="advanced",
        phase="recovering",
        minutes=60,
        can_get_on_floor=False,
        available_equipment=["bed"],
    )
    assert excluded_rules(excluded_of(client, routine), "kneeling-hip-flexor-stretch") == {
        "no-half-kneeling-on-bed"
    }
    on_all_fours = [e for e in items(routine) if e["exercise"]["position"] == "hands_and_knees"]
    assert on_all_fours
    for entry in on_all_fours:
        detail = next(r["detail"] for r in entry["reasons"] if r["rule"] == "on-bed")
        assert "on all fours on a firm bed" in detail
        assert "lying" not in detail
    heel_raises = item(routine, "heel-raises")
    support = next(r["detail"] for r in heel_raises["reasons"] if r["rule"] == "standing-support")
    assert "hold on to a counter or chair back" in support.lower()


def test_the_session_goes_down_to_the_floor_once(
    client: TestClient, excluded_of: ExcludedOf
) -> None:
    routine = create(
        client,
        sensitivity="none",
        level="advanced",
        phase="maintenance",
        minutes=90,
        target_areas=["hamstrings"],
        available_equipment=["wall", "mat", "strap"],
    )
    low = [e["exercise"]["position"] not in UPRIGHT_OR_WATER for e in items(routine)]
    descents = sum(1 for i, down in enumerate(low) if down and (i == 0 or not low[i - 1]))
    assert descents == 1
    left_out = excluded_of(client, routine)
    assert any("floor-once" in rules_of(exclusion) for exclusion in left_out), (
        "the example should show the limit at work"
    )


def test_an_under_filled_routine_says_what_would_fill_it(client: TestClient) -> None:
    routine = create(
        client,
        phase="recovering",
        minutes=30,
        can_get_on_floor=False,
        available_equipment=["bicycle"],
    )
    assert routine["estimated_seconds"] < 0.8 * 30 * 60
    suggestions = routine["fill_suggestions"]
    assert any("Cycling" in text and "include_aerobic" in text for text in suggestions)
    assert any("bed" in text for text in suggestions)
    assert all(text in routine["explanation"] for text in suggestions)
