"""Programs a clinician builds, through HTTP: checked by the routine rules (POST
/v1/routine-checks, nothing stored), on both stores."""

from typing import Any

from fastapi.testclient import TestClient

from app.core.security import Role

PROBLEM = "application/problem+json"
CONTRACT_CHECK: dict[str, Any] = {
    "profile": {"sensitivity": "flexion_sensitive", "minutes": 20},
    "program": {
        "blocks": [
            {
                "name": "main",
                "items": [
                    {
                        "exercise": "double-knee-to-chest",
                        "dose": {"sets": 1, "repetitions": 10, "hold_seconds": 5},
                    }
                ],
            }
        ]
    },
}


def item(exercise: str, **dose: Any) -> dict[str, Any]:
    return {"exercise": exercise, "dose": dose}


def program(*items: dict[str, Any]) -> dict[str, Any]:
    return {"blocks": [{"name": "main", "items": list(items)}]}


def as_program(routine: dict[str, Any]) -> dict[str, Any]:
    """A routine's exercises and doses, as a program (what the admin page starts from)."""
    return {
        "blocks": [
            {
                "name": block["name"],
                "items": [
                    {
                        "exercise": entry["exercise"]["slug"],
                        "dose": {
                            "sets": entry["sets"],
                            "repetitions": entry["reps"],
                            "hold_seconds": entry["hold_seconds"],
                            "minutes": entry["duration_minutes"],
                            "per_side": entry["per_side"],
                            "rest_seconds": entry["rest_seconds"],
                        },
                    }
                    for entry in block["items"]
                ],
            }
            for block in routine["blocks"]
        ]
    }


def rule_ids(client: TestClient) -> set[str]:
    return {rule["id"] for rule in client.get("/v1/routine-rules").json()["items"]}


def check(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/routine-checks", json=body)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    found: dict[str, Any] = response.json()
    return found


def refused(client: TestClient, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post("/v1/routine-checks", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    errors: list[dict[str, Any]] = response.json()["errors"]
    return errors


def test_the_contract_example_is_blocked_by_the_direction_flag(client: TestClient) -> None:
    found = check(client, CONTRACT_CHECK)
    assert found["blocking"] is True
    first = found["findings"][0]
    assert first["rule"] == "direction-flag"
    assert first["severity"] == "block"
    assert first["pointer"] == "/program/blocks/0/items/0"
    assert "forward" in first["text"]
    assert {f["rule"] for f in found["findings"]} <= rule_ids(client)


def test_every_rule_a_check_names_has_its_severity_in_the_registry(client: TestClient) -> None:
    rules = {rule["id"]: rule for rule in client.get("/v1/routine-rules").json()["items"]}
    found = check(client, CONTRACT_CHECK)
    for finding in found["findings"]:
        assert rules[finding["rule"]]["severity"] == finding["severity"]


def test_a_generated_routine_checks_clean_and_nothing_is_stored(client: TestClient) -> None:
    profile = {"sensitivity": "extension_sensitive", "minutes": 30, "phase": "recovering"}
    routine = client.post("/v1/routines", json=profile).json()
    found = check(client, {"profile": profile, "program": as_program(routine)})
    assert found["blocking"] is False
    assert [f for f in found["findings"] if f["severity"] != "info"] == []


def test_doses_above_the_sources_warn_at_the_dose(client: TestClient) -> None:
    body = {
        "profile": {"sensitivity": "none", "phase": "acute"},
        "program": program(item("ankle-pumps", sets=3, repetitions=60)),
    }
    found = check(client, body)
    by_pointer = {f["pointer"]: f for f in found["findings"]}
    assert by_pointer["/program/blocks/0/items/0/dose/sets"]["severity"] == "warn"
    assert by_pointer["/program/blocks/0/items/0/dose/repetitions"]["rule"] == "dose-above-cited"
    assert found["blocking"] is False


def test_an_emergency_red_flag_blocks_and_cannot_be_overridden(client: TestClient) -> None:
    body = {"profile": {"red_flags": ["fever"]}, "program": program(item("ankle-pumps"))}
    found = check(client, body)
    flag = next(f for f in found["findings"] if f["pointer"] == "/profile/red_flags/0")
    assert flag["rule"] == "red-flag-fever"
    assert flag["severity"] == "block"
    assert flag["overridable"] is False


def test_unknown_exercises_and_bad_doses_are_422s_with_pointers(client: TestClient) -> None:
    errors = refused(
        client,
        {
            "profile": {},
            "program": program(
                item("no-such-stretch"),
                item("ankle-pumps", minutes=10),
                item("ankle-pumps@999"),
            ),
        },
    )
    pointers = [error["pointer"] for error in errors]
    assert pointers == [
        "#/program/blocks/0/items/0/exercise",
        "#/program/blocks/0/items/1/dose/minutes",
        "#/program/blocks/0/items/2/exercise",
    ]
    assert "no-such-stretch" in errors[0]["message"]


def test_out_of_range_doses_and_empty_programs_are_422s(client: TestClient) -> None:
    errors = refused(client, {"profile": {}, "program": program(item("ankle-pumps", sets=0))})
    assert errors[0]["pointer"] == "#/program/blocks/0/items/0/dose/sets"
    errors = refused(client, {"profile": {}, "program": {"blocks": []}})
    assert errors[0]["pointer"] == "#/program/blocks"
    errors = refused(client, {"profile": {}, "program": {"blocks": [{"name": "x", "items": []}]}})
    assert errors[0]["pointer"] == "#/program/blocks/0/items"


def test_fifty_items_are_too_many(client: TestClient) -> None:
    forty_nine = {"profile": {}, "program": program(*[item("ankle-pumps")] * 49)}
    assert client.post("/v1/routine-checks", json=forty_nine).status_code == 200
    many = {
        "profile": {},
        "program": {
            "blocks": [
                {"name": "one", "items": [item("ankle-pumps")] * 30},
                {"name": "two", "items": [item("ankle-pumps")] * 20},
            ]
        },
    }
    errors = refused(client, many)
    assert [error["pointer"] for error in errors] == ["#/program/blocks/1/items/19"]


def test_a_retired_exercise_is_a_422_saying_so(
    fresh_client: TestClient, fresh_database_url: str, issue_key: Any
) -> None:
    editor = issue_key(fresh_database_url, "retiring-editor", Role.editor)
    etag = fresh_client.get("/v1/admin/exercises/ankle-pumps", headers=editor).headers["etag"]
    retire = {**editor, "If-Match": etag}
    assert fresh_client.delete("/v1/exercises/ankle-pumps", headers=retire).status_code == 200
    errors = refused(fresh_client, {"profile": {}, "program": program(item("ankle-pumps"))})
    assert errors[0]["pointer"] == "#/program/blocks/0/items/0/exercise"
    assert "retired" in errors[0]["message"]


STORED_PROGRAM = {
    "profile": {"sensitivity": "flexion_sensitive", "minutes": 20, "phase": "recovering"},
    "program": program(
        item("double-knee-to-chest", sets=1, repetitions=10, hold_seconds=5),
        {
            "exercise": "prone-back-extension",
            "dose": {"sets": 2, "repetitions": 10},
            "notes": "Slowly, and only as far as is comfortable.",
        },
    ),
}
OVERRIDE = {
    "rule": "direction-flag",
    "pointer": "/program/blocks/0/items/0",
    "reason": "On examination, gentle knee hugs ease this person's pain",
}


def clinician(client: TestClient, database_url: str, issue_key: Any, name: str) -> dict[str, str]:
    headers: dict[str, str] = issue_key(database_url, name, Role.clinician)
    return headers


def store(
    client: TestClient, headers: dict[str, str], overrides: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    body = {**STORED_PROGRAM, "overrides": overrides if overrides is not None else [OVERRIDE]}
    response = client.post("/v1/programs", json=body, headers=headers)
    assert response.status_code == 201, response.text
    stored: dict[str, Any] = response.json()
    assert response.headers["location"] == f"/v1/routines/{stored['id']}"
    return stored


def test_storing_a_program_needs_a_clinician_or_admin_key(
    client: TestClient, database_url: str, issue_key: Any
) -> None:
    body = {**STORED_PROGRAM, "overrides": [OVERRIDE]}
    assert client.post("/v1/programs", json=body).status_code == 401
    editor = issue_key(database_url, "program-editor", Role.editor)
    refused_editor = client.post("/v1/programs", json=body, headers=editor)
    assert refused_editor.status_code == 403
    assert "clinician" in refused_editor.json()["detail"]
    admin = issue_key(database_url, "program-admin", Role.admin)
    assert client.post("/v1/programs", json=body, headers=admin).status_code == 201
    doctor = clinician(client, database_url, issue_key, "program-clinician")
    assert client.post("/v1/programs", json=body, headers=doctor).status_code == 201


def test_a_block_without_an_override_refuses_the_program_with_its_findings(
    client: TestClient, database_url: str, issue_key: Any
) -> None:
    doctor = clinician(client, database_url, issue_key, "refused-clinician")
    response = client.post("/v1/programs", json=STORED_PROGRAM, headers=doctor)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "/problems/program-refused"
    assert [error["pointer"] for error in problem["errors"]] == ["#/program/blocks/0/items/0"]
    checked = check(client, {"profile": STORED_PROGRAM["profile"], **STORED_PROGRAM})
    assert problem["findings"] == checked["findings"]


def test_an_override_must_answer_a_finding_and_red_flags_cannot_be_overridden(
    client: TestClient, database_url: str, issue_key: Any
) -> None:
    doctor = clinician(client, database_url, issue_key, "override-clinician")
    stray = {**OVERRIDE, "pointer": "/program/blocks/0/items/1"}
    body = {**STORED_PROGRAM, "overrides": [OVERRIDE, stray]}
    response = client.post("/v1/programs", json=body, headers=doctor)
    assert response.status_code == 422
    assert [error["pointer"] for error in response.json()["errors"]] == ["#/overrides/1"]
    feverish = {
        "profile": {**STORED_PROGRAM["profile"], "red_flags": ["fever"]},
        "program": STORED_PROGRAM["program"],
        "overrides": [
            OVERRIDE,
            {"rule": "red-flag-fever", "pointer": "/profile/red_flags/0", "reason": "It is mild"},
        ],
    }
    response = client.post("/v1/programs", json=feverish, headers=doctor)
    assert response.status_code == 422
    assert response.json()["type"] == "/problems/program-refused"


def test_a_stored_program_is_a_routine_with_its_findings_and_overrides(
    client: TestClient, database_url: str, issue_key: Any
) -> None:
    doctor = clinician(client, database_url, issue_key, "storing-clinician")
    stored = store(client, doctor)
    token = stored.pop("delete_token")
    assert token
    assert stored["origin"] == "clinician"
    assert stored["overrides"] == [OVERRIDE]
    rules = {finding["rule"] for finding in stored["findings"]}
    assert "direction-flag" in rules
    assert stored["outcome"] == "routine"
    assert client.get(f"/v1/routines/{stored['id']}").json() == stored
    first, second = stored["blocks"][0]["items"]
    assert first["exercise"]["slug"] == "double-knee-to-chest"
    details = [reason["detail"] for reason in first["reasons"]]
    assert "Your clinician chose this because on examination, gentle knee hugs" in " ".join(details)
    assert any("Their note: Slowly" in reason["detail"] for reason in second["reasons"])


def test_a_clean_program_stores_without_overrides_and_keeps_its_warnings(
    client: TestClient, database_url: str, issue_key: Any
) -> None:
    doctor = clinician(client, database_url, issue_key, "clean-clinician")
    body = {
        "profile": {"sensitivity": "none", "phase": "recovering"},
        "program": program(item("ankle-pumps", sets=1, repetitions=30)),
    }
    response = client.post("/v1/programs", json=body, headers=doctor)
    assert response.status_code == 201, response.text
    stored = response.json()
    warned = [f for f in stored["findings"] if f["severity"] == "warn"]
    assert [f["rule"] for f in warned] == ["dose-above-cited"]
    reasons = stored["blocks"][0]["items"][0]["reasons"]
    assert any(reason["rule"] == "dose-above-cited" for reason in reasons)


def test_the_handout_and_fhir_of_a_program(
    client: TestClient, database_url: str, issue_key: Any
) -> None:
    doctor = clinician(client, database_url, issue_key, "handout-clinician")
    stored = store(client, doctor)
    url = f"/v1/routines/{stored['id']}/handout"
    page = client.get(url)
    assert page.status_code == 200
    assert "Your clinician chose this because on examination" in page.text
    assert "Your clinician chose these exercises" in page.text
    assert "Beyond what this service would give: 10 repetitions is more than" in page.text
    pdf = client.get(url, params={"format": "pdf"})
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    plan = client.get(f"/fhir/r4/PlanDefinition/{stored['id']}")
    assert plan.status_code == 200
    assert plan.json()["resourceType"] == "PlanDefinition"


def doses(routine: dict[str, Any]) -> list[tuple[str, int, int | None]]:
    return [
        (entry["exercise"]["slug"], entry["sets"], entry["reps"])
        for block in routine["blocks"]
        for entry in block["items"]
    ]


def test_feedback_on_a_program_keeps_its_exercises_and_adjusts_the_doses(
    client: TestClient, database_url: str, issue_key: Any
) -> None:
    doctor = clinician(client, database_url, issue_key, "chain-clinician")
    stored = store(client, doctor)
    token = stored.pop("delete_token")
    hard = {"pain_before": 3, "pain_after": 3, "completed": True, "difficulty": "hard"}
    response = client.post(
        f"/v1/routines/{stored['id']}/feedback",
        json=hard,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text
    given = response.json()
    assert given["recommendation"] == "regress"
    following = given["next_routine"]
    assert following["origin"] == "clinician"
    assert following["previous_routine_id"] == stored["id"]
    assert following["overrides"] == [OVERRIDE]
    assert doses(following) == [("double-knee-to-chest", 1, 7), ("prone-back-extension", 1, 10)]
    assert "a set fewer" in given["adjustment"]
    worse = {"pain_before": 2, "pain_after": 6, "completed": True, "difficulty": "right"}
    stopped = client.post(
        f"/v1/routines/{following['id']}/feedback",
        json=worse,
        headers={"Authorization": f"Bearer {following['delete_token']}"},
    )
    assert stopped.status_code == 201, stopped.text
    assert stopped.json()["recommendation"] == "stop_and_consult"
    assert stopped.json()["next_routine"] is None


def test_a_program_is_deleted_with_its_token(
    client: TestClient, database_url: str, issue_key: Any
) -> None:
    doctor = clinician(client, database_url, issue_key, "deleting-clinician")
    stored = store(client, doctor)
    bearer = {"Authorization": f"Bearer {stored['delete_token']}"}
    assert client.delete(f"/v1/routines/{stored['id']}", headers=bearer).status_code == 204
    assert client.get(f"/v1/routines/{stored['id']}").status_code == 410


def slugs(routine: dict[str, Any]) -> list[str]:
    return [entry["exercise"]["slug"] for block in routine["blocks"] for entry in block["items"]]


GENERATED_PROFILE = {"sensitivity": "flexion_sensitive", "minutes": 20, "phase": "recovering"}


def test_a_program_from_a_generated_routine_with_edits(
    client: TestClient, database_url: str, issue_key: Any
) -> None:
    routine = client.post("/v1/routines", json=GENERATED_PROFILE).json()
    first, second, *_ = slugs(routine)
    edits = [
        {"op": "remove", "exercise": first},
        {"op": "dose", "exercise": second, "dose": {"sets": 1, "repetitions": 3}},
        {"op": "add", "item": item("ankle-pumps", repetitions=10), "block": "At the end"},
    ]
    body = {"from_routine": {"id": routine["id"], "edits": edits}}
    found = check(client, body)
    assert found["blocking"] is False
    doctor = clinician(client, database_url, issue_key, "editing-clinician")
    response = client.post("/v1/programs", json=body, headers=doctor)
    assert response.status_code == 201, response.text
    stored = response.json()
    assert stored["profile"]["sensitivity"] == "flexion_sensitive"
    assert first not in slugs(stored)
    assert slugs(stored)[0] == second
    assert slugs(stored)[-1] == "ankle-pumps"
    assert stored["blocks"][-1]["title"] == "At the end"
    assert stored["blocks"][0]["items"][0]["reps"] == 3


def test_replacing_with_a_flagged_exercise_is_checked_the_same_way(client: TestClient) -> None:
    routine = client.post("/v1/routines", json=GENERATED_PROFILE).json()
    first = slugs(routine)[0]
    edits = [{"op": "replace", "exercise": first, "item": item("double-knee-to-chest")}]
    found = check(client, {"from_routine": {"id": routine["id"], "edits": edits}})
    assert found["blocking"] is True
    assert found["findings"][0]["rule"] == "direction-flag"


def test_bad_starting_points_and_edits_are_refused(client: TestClient) -> None:
    routine = client.post("/v1/routines", json=GENERATED_PROFILE).json()
    missing = {"op": "remove", "exercise": "no-such-stretch"}
    errors = refused(client, {"from_routine": {"id": routine["id"], "edits": [missing]}})
    assert errors[0]["pointer"] == "#/from_routine/edits/0/exercise"
    unknown = {"from_routine": {"id": "00000000-0000-0000-0000-000000000000"}}
    assert client.post("/v1/routine-checks", json=unknown).status_code == 404
    both = {"profile": {}, "program": program(item("ankle-pumps")), "from_routine": {"id": "x"}}
    assert client.post("/v1/routine-checks", json=both).status_code == 422
    referral = client.post("/v1/routines", json={"red_flags": ["fever"]}).json()
    assert (
        client.post("/v1/routine-checks", json={"from_routine": {"id": referral["id"]}}).status_code
        == 409
    )


def test_a_retired_exercise_is_kept_only_from_a_routine_that_has_it(
    fresh_client: TestClient, fresh_database_url: str, issue_key: Any
) -> None:
    profile = {"sensitivity": "none", "minutes": 10, "phase": "recovering"}
    routine = fresh_client.post("/v1/routines", json=profile).json()
    kept = routine["blocks"][0]["items"][0]["exercise"]
    editor = issue_key(fresh_database_url, "retirer", Role.editor)
    etag = fresh_client.get(f"/v1/admin/exercises/{kept['slug']}", headers=editor).headers["etag"]
    retire = {**editor, "If-Match": etag}
    assert fresh_client.delete(f"/v1/exercises/{kept['slug']}", headers=retire).status_code == 200
    found = check(fresh_client, {"from_routine": {"id": routine["id"]}})
    assert found["blocking"] is False
    versioned = f"{kept['slug']}@{kept['version']}"
    errors = refused(fresh_client, {"profile": profile, "program": program(item(versioned))})
    assert errors[0]["pointer"] == "#/program/blocks/0/items/0/exercise"
