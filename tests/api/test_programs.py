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
