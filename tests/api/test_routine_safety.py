"""The content, red-flag and feedback rules, example by example, through HTTP on both
stores."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

ExcludedOf = Callable[[TestClient, dict[str, Any]], list[dict[str, Any]]]
"""The `excluded_of` fixture: every exercise a routine leaves out, paged."""
GOOD = {"pain_before": 3, "pain_after": 2, "completed": True, "difficulty": "easy"}
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = MONDAY

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(fresh_client: TestClient) -> Clock:
    """The app's clock, moved by the test: feedback given over days without waiting days."""
    moving = Clock()
    fresh_client.app.state.runtime.clock = moving  # type: ignore[attr-defined]
    return moving


DELETE_TOKENS: dict[str, str] = {}
"""Each routine's delete token, by id, as creation (or the feedback that made it) returned it."""


def routine(client: TestClient, **profile: Any) -> dict[str, Any]:
    response = client.post("/v1/routines", json=profile)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    DELETE_TOKENS[body["id"]] = body["delete_token"]
    return body


def give(client: TestClient, routine_id: str, **fields: Any) -> dict[str, Any]:
    """Feedback as the holder of the routine's delete token gives it."""
    response = client.post(
        f"/v1/routines/{routine_id}/feedback",
        json={**GOOD, **fields},
        headers={"Authorization": f"Bearer {DELETE_TOKENS[routine_id]}"},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    if body["next_routine"] is not None:
        DELETE_TOKENS[body["next_routine"]["id"]] = body["next_routine"]["delete_token"]
    return body


def items(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for block in plan["blocks"] for item in block["items"]]


def slugs(plan: dict[str, Any]) -> list[str]:
    return [item["exercise"]["slug"] for item in items(plan)]


def excluded(left_out: list[dict[str, Any]], slug: str) -> list[dict[str, str]]:
    return next(entry["reasons"] for entry in left_out if entry["slug"] == slug)


# Red flags


def test_a_soon_flag_cleared_by_a_clinician_gives_the_routine_with_the_referral_beside_it(
    client: TestClient,
) -> None:
    for flag in ["strain_pain_beyond_two_weeks", "history_of_cancer"]:
        refused = routine(client, red_flags=[flag])
        assert refused["outcome"] == "refer"
        cleared = routine(client, red_flags=[flag], cleared_by_clinician=True)
        assert cleared["outcome"] == "routine"
        assert items(cleared)
        assert cleared["referral"]["cleared_by_clinician"] is True
        assert cleared["referral"]["urgency"] == "soon"
        assert cleared["referral"]["advice"] in cleared["safety_notes"]


@pytest.mark.parametrize("flag", ["fever", "saddle_numbness", "major_trauma"])
def test_emergency_and_same_day_flags_refer_whatever_the_clearance(
    client: TestClient, flag: str
) -> None:
    plan = routine(client, red_flags=[flag, "history_of_cancer"], cleared_by_clinician=True, seed=1)
    assert plan["outcome"] == "refer"
    assert plan["blocks"] == []
    assert plan["referral"]["cleared_by_clinician"] is False


def test_red_flag_questions_say_what_is_not_from_the_source(client: TestClient) -> None:
    flags = {item["id"]: item for item in client.get("/v1/red-flags").json()["items"]}
    assert "a history of cancer" in flags["history_of_cancer"]["question"]
    assert "back pain new" in flags["history_of_cancer"]["question"]
    bladder = flags["bladder_or_bowel_control_loss"]
    assert "urine" in bladder["question"]
    assert "design choice" in bladder["design_choice"]


# Feedback


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"pain_before": 0, "pain_after": 1}, "new-pain"),
        ({"leg_symptoms_worse": True}, "leg-symptoms-worse"),
        ({"new_leg_symptoms": True}, "new-leg-symptoms"),
        ({"pain_before": 2, "pain_after": 5}, "pain-rose-sharply"),
    ],
)
def test_new_pain_and_worse_leg_symptoms_stop(
    client: TestClient, fields: dict[str, Any], rule: str
) -> None:
    first = routine(client, sensitivity="none")
    body = give(client, first["id"], **fields)
    assert body["recommendation"] == "stop_and_consult"
    assert body["rule"]["id"] == rule
    assert body["next_routine"] is None
    assert "physical therapist" in body["advice"]


def test_a_small_pain_rise_regresses_and_repeats_the_stop_rule(client: TestClient) -> None:
    first = routine(client, sensitivity="none", level="intermediate")
    body = give(client, first["id"], pain_before=3, pain_after=5, difficulty="right")
    assert body["recommendation"] == "regress"
    assert "stop and contact your doctor" in body["rule"]["text"]
    assert "design choice" in body["rule"]["text"]
    assert body["next_routine"]["profile"]["level"] == "beginner"
    assert "physical therapist" in body["advice"]


def test_no_advance_while_pain_after_is_5_or_more(client: TestClient) -> None:
    first = routine(client, sensitivity="none")
    body = give(client, first["id"], pain_before=6, pain_after=5)
    assert body["recommendation"] == "repeat"
    assert body["rule"]["id"] == "pain-too-high-to-advance"


def test_advance_needs_about_a_week_of_good_sessions_along_the_chain(
    fresh_client: TestClient, clock: Clock
) -> None:
    current = routine(fresh_client, sensitivity="none", level="beginner")
    answers = []
    for day in [0, 2, 4, 6]:
        clock.now = MONDAY + timedelta(days=day)
        answer = give(fresh_client, current["id"])
        answers.append(answer)
        current = answer["next_routine"]
    assert [a["recommendation"] for a in answers] == ["repeat", "repeat", "repeat", "advance"], [
        (a["adjustment"], a["created_at"]) for a in answers
    ]
    assert {a["rule"]["id"] for a in answers[:3]} == {"move-up-after-a-week"}
    assert "so far" in answers[0]["adjustment"]
    assert answers[3]["advice"] is None
    assert current["profile"]["level"] == "intermediate"
    assert current["created_at"].startswith("2026-03-08")
    recorded = fresh_client.get(f"/v1/routines/{answers[3]['routine_id']}/feedback").json()
    assert recorded["recommendation"] == "advance"


def test_a_bad_session_restarts_the_week(fresh_client: TestClient, clock: Clock) -> None:
    current = routine(fresh_client, sensitivity="none", level="beginner")
    for day, fields in [(0, {}), (2, {"completed": False}), (4, {}), (6, {}), (8, {})]:
        clock.now = MONDAY + timedelta(days=day)
        answer = give(fresh_client, current["id"], **fields)
        assert answer["recommendation"] == "repeat", (day, answer["rule"])
        current = answer["next_routine"]
    clock.now = MONDAY + timedelta(days=10)
    assert give(fresh_client, current["id"])["recommendation"] == "advance"


def test_pain_gone_in_the_acute_phase_moves_the_next_routine_to_recovering(
    client: TestClient,
) -> None:
    first = routine(client, sensitivity="none", phase="acute")
    body = give(client, first["id"], pain_before=0, pain_after=0, difficulty="right")
    assert body["recommendation"] == "repeat"
    assert body["next_routine"]["profile"]["phase"] == "recovering"
    assert "recovering" in body["adjustment"]


# Content rules in routines


def test_without_the_floor_long_sitting_needs_a_listed_bed(
    client: TestClient, excluded_of: ExcludedOf
) -> None:
    no_bed = routine(
        client, sensitivity="none", level="intermediate", can_get_on_floor=False, minutes=60
    )
    assert "seated-hamstring-stretch" not in slugs(no_bed)
    assert {
        r["code"] for r in excluded(excluded_of(client, no_bed), "seated-hamstring-stretch")
    } >= {"position"}
    with_bed = routine(
        client,
        sensitivity="none",
        level="intermediate",
        can_get_on_floor=False,
        available_equipment=["bed"],
        target_areas=["hamstrings"],
        minutes=60,
    )
    for item in items(with_bed):
        if item["exercise"]["position"] == "long_sitting":
            assert "on_bed" in {reason["code"] for reason in item["reasons"]}


def test_flexion_sensitive_person_on_a_bed_gets_the_prone_extension_first(
    client: TestClient,
) -> None:
    plan = routine(
        client,
        sensitivity="flexion_sensitive",
        can_get_on_floor=False,
        available_equipment=["bed"],
    )
    assert slugs(plan)[0] == "prone-back-extension"
    assert any("McKenzie" in note for note in plan["safety_notes"])


def test_a_routine_without_its_indicated_exercise_says_so(client: TestClient) -> None:
    plan = routine(client, sensitivity="flexion_sensitive", can_get_on_floor=False)
    assert "prone-back-extension" not in slugs(plan)
    assert "indicated direction" in plan["explanation"]
    assert "Prone back extension" in plan["explanation"]


def test_bed_edge_hip_flexor_stretch_is_left_out_for_a_flexion_sensitive_back(
    client: TestClient, excluded_of: ExcludedOf
) -> None:
    plan = routine(
        client, sensitivity="flexion_sensitive", level="advanced", available_equipment=["bed"]
    )
    reasons = excluded(excluded_of(client, plan), "bed-edge-hip-flexor-stretch")
    assert "flag" in {reason["code"] for reason in reasons}
    knee = client.get("/v1/exercises/single-knee-to-chest").json()["contraindications"]
    bed_edge = client.get("/v1/exercises/bed-edge-hip-flexor-stretch").json()
    assert bed_edge["contraindications"] == knee


def test_kneeling_hip_flexor_stretch_is_prescribed_per_side(client: TestClient) -> None:
    plan = routine(
        client, sensitivity="none", level="intermediate", target_areas=["hip_flexors"], seed=3
    )
    kneeling = [i for i in items(plan) if i["exercise"]["slug"] == "kneeling-hip-flexor-stretch"]
    for item in kneeling:
        assert item["per_side"] is True


def test_acute_routines_give_ice_and_heat_advice(client: TestClient) -> None:
    acute = routine(client, sensitivity="none", phase="acute")
    assert any("Ice" in note and "heat" in note for note in acute["safety_notes"])
    later = routine(client, sensitivity="none", phase="maintenance")
    assert not any("Ice" in note for note in later["safety_notes"])


def test_levels_describe_their_content_and_label_the_move_up_rule(
    client: TestClient, excluded_of: ExcludedOf
) -> None:
    levels = client.get("/v1/progression-levels").json()["items"]
    for level in levels:
        assert "hold" not in level["description"].lower()
        if level["slug"] != "advanced":
            assert "design choice" in level["when_to_move_up"]
    article = {"beginner": "a", "intermediate": "an", "advanced": "an"}
    plan = routine(client, sensitivity="none", level="beginner")
    for entry in excluded_of(client, plan):
        for reason in entry["reasons"]:
            if reason["code"] == "level":
                level = reason["detail"].split()[3]
                assert reason["detail"].startswith(f"It is {article[level]} {level} exercise")


def test_the_new_rules_are_served_and_named_by_reasons(
    client: TestClient, excluded_of: ExcludedOf
) -> None:
    rules = {rule["id"]: rule for rule in client.get("/v1/routine-rules").json()["items"]}
    for rule_id in [
        "new-pain",
        "leg-symptoms-worse",
        "pain-too-high-to-advance",
        "move-up-after-a-week",
        "cleared-by-clinician",
        "indicated-left-out",
        "flexion-in-set-up",
        "long-sitting-is-floor",
        "nerve-tension-marking",
        "strap-flat-back-set-up",
        "prone-extension-on-a-firm-bed",
        "both-sides-inferred",
    ]:
        assert rule_id in rules
    assert rules["flexion-in-set-up"]["area"] == "content"
    assert rules["move-up-after-a-week"]["basis"] == "design_choice"
    plan = routine(
        client,
        sensitivity="flexion_sensitive",
        level="advanced",
        can_get_on_floor=False,
        available_equipment=[],
    )
    by_slug = {entry["slug"]: entry["reasons"] for entry in excluded_of(client, plan)}
    assert "flexion-in-set-up" in {r["rule"] for r in by_slug["bed-edge-hip-flexor-stretch"]}
    assert "long-sitting-is-floor" in {r["rule"] for r in by_slug["seated-hamstring-stretch"]}
