"""Routines through HTTP: generate, store, read back, feedback chains, bad input."""

import re
import uuid
from datetime import datetime
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
import zstandard
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.api import routines as routines_api
from app.api.dependencies import spend_routine_write
from app.core.security import hash_key
from app.core.settings import Settings
from app.db.models import ExerciseRow, RoutineRow
from app.db.routine_cache import RoutineCache
from app.db.session import build_engine
from app.domain.vocabulary import Level
from app.main import create_app

PROBLEM = "application/problem+json"
RFC3339_Z = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$"
GOOD_FEEDBACK = {
    "pain_before": 4,
    "pain_after": 3,
    "completed": True,
    "difficulty": "right",
    "new_leg_symptoms": False,
}
DELETE_TOKENS: dict[str, str] = {}
"""The delete token of each routine these tests created, by id: `create` keeps them aside, so
the routines it returns compare equal to what GET returns."""


def create(client: TestClient, **profile: Any) -> dict[str, Any]:
    """The created routine as GET returns it: creation's body without its delete token."""
    response = client.post("/v1/routines", json=profile)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["location"] == f"/v1/routines/{body['id']}"
    DELETE_TOKENS[body["id"]] = body.pop("delete_token")
    return body


def next_routine(feedback_response: Any) -> dict[str, Any]:
    """The routine a feedback made, without its delete token."""
    following: dict[str, Any] = feedback_response.json()["next_routine"]
    DELETE_TOKENS[following["id"]] = following.pop("delete_token")
    return following


def give_feedback(client: TestClient, routine_id: str, feedback: dict[str, Any]) -> Any:
    """Feedback as the person holding the routine's delete token gives it."""
    return client.post(
        f"/v1/routines/{routine_id}/feedback",
        json=feedback,
        headers={"Authorization": f"Bearer {DELETE_TOKENS.get(routine_id, 'unknown')}"},
    )


def routine_count(url: str) -> int:
    engine = build_engine(url)
    with Session(engine) as session:
        count = len(session.exec(select(RoutineRow.id)).all())
    engine.dispose()
    return count


def exercise_slugs(routine: dict[str, Any]) -> list[str]:
    return [item["exercise"]["slug"] for block in routine["blocks"] for item in block["items"]]


def test_red_flags_are_listed(client: TestClient) -> None:
    items = client.get("/v1/red-flags").json()["items"]
    ids = {item["id"] for item in items}
    assert {"fever", "severe_abdominal_pain", "bladder_or_bowel_control_loss"} <= ids
    assert all(item["question"] and item["urgency"] and item["advice"] for item in items)


def test_created_routine_reads_back_exactly(client: TestClient) -> None:
    created = create(client, sensitivity="flexion_sensitive", target_areas=["lower_back"], seed=7)
    assert created["outcome"] == "routine"
    assert created["profile"]["seed"] == 7
    assert exercise_slugs(created)
    assert client.get(f"/v1/routines/{created['id']}").json() == created
    first = created["blocks"][0]["items"][0]
    assert {"slug", "name", "steps", "position", "dosage"} <= set(first["exercise"])
    assert {
        "sets",
        "reps",
        "hold_seconds",
        "per_side",
        "rest_seconds",
        "estimated_seconds",
        "reasons",
    } <= set(first)
    assert created["estimated_minutes"] <= 20
    assert created["safety_notes"]
    assert created["citations"]
    assert created["frequency"]


def test_a_memoised_routine_is_one_json_document_in_the_contracts_order(
    client: TestClient,
) -> None:
    """The plan's bytes are made once and follow each routine's own members: the bytes must be
    exactly the document serialised whole (no key twice, the same order), first time or not,
    and for the routine a feedback makes."""
    profile = {"sensitivity": "none", "minutes": 15, "seed": 5}
    for _ in range(2):
        response = client.post("/v1/routines", json=profile)
        assert response.status_code == 201
        assert orjson.dumps(orjson.loads(response.content)) == response.content
        assert list(orjson.loads(response.content))[:5] == [
            "id",
            "created_at",
            "profile",
            "previous_routine_id",
            "earlier_routine_ids",
        ]
    routine = orjson.loads(response.content)
    DELETE_TOKENS[routine["id"]] = routine["delete_token"]
    following = give_feedback(client, routine["id"], GOOD_FEEDBACK)
    assert following.status_code == 201, following.text
    made = client.get(f"/v1/routines/{following.json()['next_routine']['id']}")
    assert orjson.dumps(orjson.loads(made.content)) == made.content
    assert orjson.loads(made.content)["previous_routine_id"] == routine["id"]


def test_the_fast_creation_spends_and_checks_what_the_route_declares(client: TestClient) -> None:
    """Well-formed creations skip FastAPI's dependency solving (`create_well_formed`), so the
    route must declare nothing that path does not do itself: the write budget, the
    Idempotency-Key header and the profile body."""
    route = next(
        route
        for route in client.app.routes  # type: ignore[attr-defined]
        if isinstance(route, APIRoute) and route.endpoint is routines_api.create_routine
    )
    dependant = route.dependant
    assert [dependency.call for dependency in dependant.dependencies] == [spend_routine_write]
    assert [param.alias for param in dependant.header_params] == ["idempotency-key"]
    assert [param.name for param in dependant.body_params] == ["profile"]
    assert not dependant.query_params
    assert not dependant.cookie_params
    assert not dependant.path_params


@pytest.mark.parametrize("key", [None, "3f1b0c1e-4a7d-4a55-9a8e-2b5f3f0e9c77"])
def test_a_well_formed_creation_answers_as_fastapis_path_does(
    client: TestClient, key: str | None
) -> None:
    """The same request through the fast path and, with an override in force, through FastAPI's
    handler: the same status, headers and document (less its own id, time and token)."""
    profile = {"sensitivity": "extension_sensitive", "minutes": 15, "seed": 2}
    answers = []
    for overridden in (False, True):
        if overridden:
            client.app.dependency_overrides[unused_dependency] = unused_dependency  # type: ignore[attr-defined]
        headers = {"Idempotency-Key": f"{key}-{overridden}"} if key else {}
        try:
            answers.append(client.post("/v1/routines", json=profile, headers=headers))
        finally:
            client.app.dependency_overrides.clear()  # type: ignore[attr-defined]
    fast, usual = answers
    assert fast.status_code == usual.status_code == 201
    varying = {"location", "x-request-id", "ratelimit", "content-length"}
    assert {k: v for k, v in fast.headers.items() if k not in varying} == {
        k: v for k, v in usual.headers.items() if k not in varying
    }
    assert set(fast.headers) == set(usual.headers)
    mine = {"id", "created_at", "delete_token"}
    assert {k: v for k, v in fast.json().items() if k not in mine} == {
        k: v for k, v in usual.json().items() if k not in mine
    }


def unused_dependency() -> None:
    """A dependency no route uses: overriding it only sends requests FastAPI's usual way."""


def test_flexion_sensitive_gets_the_extension_exercise_first(client: TestClient) -> None:
    routine = create(client, sensitivity="flexion_sensitive")
    slugs = exercise_slugs(routine)
    assert slugs[0] == "prone-back-extension"
    assert not {"cat-stretch", "childs-pose", "single-knee-to-chest"} & set(slugs)


def test_same_profile_and_seed_give_the_same_routine(client: TestClient) -> None:
    profile = {"sensitivity": "none", "level": "intermediate", "minutes": 30, "seed": 3}
    first, second = create(client, **profile), create(client, **profile)
    assert first["id"] != second["id"]
    strip = {"id", "created_at"}
    assert {k: v for k, v in first.items() if k not in strip} == {
        k: v for k, v in second.items() if k not in strip
    }


def test_an_omitted_seed_is_seed_0_as_the_contract_says(client: TestClient) -> None:
    profile = {"sensitivity": "none", "level": "intermediate", "minutes": 30}
    omitted, zero = create(client, **profile), create(client, **profile, seed=0)
    assert omitted["profile"]["seed"] == 0
    assert omitted["blocks"] == zero["blocks"]
    seed = client.get("/openapi.json").json()["components"]["schemas"]["Profile"]
    assert "Left out, it is 0: the standard routine" in seed["properties"]["seed"]["description"]


def test_routine_and_feedback_timestamps_are_utc_ending_in_z(client: TestClient) -> None:
    routine = create(client, sensitivity="none")
    feedback = give_feedback(client, routine["id"], GOOD_FEEDBACK).json()
    stamps = [
        routine["created_at"],
        client.get(f"/v1/routines/{routine['id']}").json()["created_at"],
        feedback["created_at"],
        feedback["next_routine"]["created_at"],
        client.get(f"/v1/routines/{routine['id']}/feedback").json()["created_at"],
    ]
    for stamp in stamps:
        assert re.match(RFC3339_Z, stamp), stamp
    assert datetime.fromisoformat(stamps[0]) <= datetime.fromisoformat(stamps[2])


def test_a_routine_stored_before_z_keeps_its_bytes(client: TestClient) -> None:
    """Routines are write-once snapshots: one stored with `+00:00` is served as it was."""
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    document = {**create(client, sensitivity="none"), "id": str(uuid.uuid4())}
    document["created_at"] = "2026-11-29T13:28:38.933400+00:00"
    stored = orjson.dumps(document)
    catalogue = runtime.catalogue_store.current()
    row = runtime.routine_store.prepare(catalogue, document, stored, hash_key("token"))
    client.portal.call(runtime.routine_store.create, row)  # type: ignore[union-attr]
    runtime.routine_store.cache = RoutineCache()
    response = client.get(f"/v1/routines/{document['id']}")
    assert response.content == stored


@pytest.mark.parametrize("red_flag", ["fever", "saddle_numbness", "strain_pain_beyond_two_weeks"])
def test_a_red_flag_gives_a_referral_and_no_exercises(client: TestClient, red_flag: str) -> None:
    routine = create(client, sensitivity="none", red_flags=[red_flag])
    assert routine["outcome"] == "refer"
    assert exercise_slugs(routine) == []
    assert routine["referral"]["urgency"]
    assert routine["referral"]["advice"]


def test_snapshot_survives_catalogue_changes(
    fresh_client: TestClient, fresh_database_url: str
) -> None:
    routine = create(fresh_client, sensitivity="flexion_sensitive", minutes=10)
    slug = exercise_slugs(routine)[0]
    engine = build_engine(fresh_database_url)
    with engine.begin() as connection:
        connection.execute(
            sa.update(ExerciseRow)
            .where(sa.column("slug") == slug)
            .values(status="retired", revision=999)
        )
        connection.execute(sa.text("UPDATE catalogue_state SET revision = 999"))
    engine.dispose()
    store = fresh_client.app.state.runtime.catalogue_store  # type: ignore[attr-defined]
    store.refresh()
    assert fresh_client.get(f"/v1/exercises/{slug}").status_code == 404
    assert fresh_client.get(f"/v1/routines/{routine['id']}").json() == routine
    stale = fresh_client.get(f"/v1/routines/{routine['id']}/excluded")
    assert stale.status_code == 409
    assert stale.headers["content-type"].startswith(PROBLEM)
    assert "revision" in stale.json()["detail"]
    regenerated = create(fresh_client, sensitivity="flexion_sensitive", minutes=10)
    assert slug not in exercise_slugs(regenerated)


@pytest.mark.parametrize(
    ("feedback", "recommendation"),
    [
        ({"difficulty": "easy", "pain_after": 3}, "repeat"),
        ({"difficulty": "right"}, "repeat"),
        ({"difficulty": "hard", "pain_after": 5}, "regress"),
    ],
)
def test_feedback_links_the_next_routine(
    client: TestClient, feedback: dict[str, Any], recommendation: str
) -> None:
    first = create(client, sensitivity="none", level="intermediate")
    response = give_feedback(client, first["id"], {**GOOD_FEEDBACK, **feedback})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["recommendation"] == recommendation
    assert body["rule"]["id"]
    assert body["rule"]["text"]
    following = next_routine(response)
    assert body["next_routine_id"] == following["id"]
    assert following["previous_routine_id"] == first["id"]
    assert following["earlier_routine_ids"] == [first["id"]]
    assert response.headers["location"] == f"/v1/routines/{following['id']}"
    assert client.get(f"/v1/routines/{following['id']}").json() == following
    assert client.get(f"/v1/routines/{first['id']}").json() == first
    recorded = client.get(f"/v1/routines/{first['id']}/feedback").json()
    assert recorded == {k: v for k, v in body.items() if k != "next_routine"}
    levels = [Level(first["profile"]["level"]).rank, Level(following["profile"]["level"]).rank]
    if recommendation == "advance":
        assert levels[1] >= levels[0]
    if recommendation == "regress":
        assert levels[1] <= levels[0]


@pytest.mark.parametrize(
    "feedback", [{"pain_before": 2, "pain_after": 5}, {"new_leg_symptoms": True}]
)
def test_rising_pain_or_new_leg_symptoms_stop(client: TestClient, feedback: dict[str, Any]) -> None:
    first = create(client, sensitivity="none")
    response = give_feedback(client, first["id"], {**GOOD_FEEDBACK, **feedback})
    assert response.status_code == 201
    assert response.json()["recommendation"] == "stop_and_consult"
    assert response.json()["next_routine"] is None
    assert "location" not in response.headers
    assert client.get(f"/v1/routines/{first['id']}/feedback").json()["next_routine_id"] is None


@pytest.mark.parametrize("feedback", [{"symptoms": ["weakness"]}, {"saddle_numbness": True}])
def test_leg_weakness_or_saddle_numbness_after_a_session_is_an_emergency(
    client: TestClient, feedback: dict[str, Any]
) -> None:
    first = create(client, leg_symptoms=True)
    response = give_feedback(client, first["id"], {**GOOD_FEEDBACK, **feedback})
    assert response.status_code == 201
    body = response.json()
    assert (body["recommendation"], body["urgency"]) == ("stop_and_consult", "emergency")
    assert "emergency" in body["rule"]["text"]
    recorded = client.get(f"/v1/routines/{first['id']}/feedback").json()
    assert recorded["urgency"] == "emergency"
    assert {**GOOD_FEEDBACK, **feedback}.items() <= recorded.items()


def test_a_second_rise_in_a_row_stops_the_chain(client: TestClient) -> None:
    rise = {**GOOD_FEEDBACK, "pain_before": 3, "pain_after": 4}
    first = create(client)
    regressed = give_feedback(client, first["id"], rise)
    assert regressed.json()["recommendation"] == "regress"
    assert regressed.json()["urgency"] is None
    second = next_routine(regressed)
    stopped = give_feedback(client, second["id"], rise).json()
    assert (stopped["recommendation"], stopped["rule"]["id"]) == (
        "stop_and_consult",
        "pain-rose-again",
    )


def test_feedback_is_taken_once(client: TestClient) -> None:
    first = create(client)
    assert give_feedback(client, first["id"], GOOD_FEEDBACK).status_code == 201
    second = give_feedback(client, first["id"], GOOD_FEEDBACK)
    assert second.status_code == 409
    assert second.headers["content-type"] == PROBLEM


def test_only_the_delete_tokens_holder_gives_feedback(client: TestClient) -> None:
    """The id (printed on the handout, as a URL and QR code) only reads: feedback needs the
    token creation returned, as delete does, so a stranger cannot take the owner's one answer."""
    mine, theirs = create(client, sensitivity="none"), create(client, sensitivity="none")
    url = f"/v1/routines/{mine['id']}/feedback"
    missing = client.post(url, json=GOOD_FEEDBACK)
    assert missing.status_code == 401, missing.text
    assert missing.headers["content-type"] == PROBLEM
    assert missing.headers["www-authenticate"].startswith("Bearer")
    other = {"Authorization": f"Bearer {DELETE_TOKENS[theirs['id']]}"}
    assert client.post(url, json=GOOD_FEEDBACK, headers=other).status_code == 403
    assert (
        client.post(url, json=GOOD_FEEDBACK, headers={"Authorization": "Bearer x"}).status_code
        == 403
    )
    assert client.get(url).status_code == 404, "nothing was recorded"
    assert give_feedback(client, mine["id"], GOOD_FEEDBACK).status_code == 201
    assert client.get(url).status_code == 200, "reading stays open by id"
    assert client.get(f"/v1/routines/{mine['id']}").json() == mine


def test_feedback_on_a_referral_is_refused(client: TestClient) -> None:
    referral = create(client, red_flags=["fever"])
    response = give_feedback(client, referral["id"], GOOD_FEEDBACK)
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"sensitivity": "sideways"}, 422, "sensitivity"),
        ({"level": "superhuman"}, 422, "level"),
        ({"target_areas": ["elbow"]}, 422, "target_areas.0"),
        ({"available_equipment": ["trampoline"]}, 422, "available_equipment.0"),
        ({"minutes": 4}, 422, "minutes"),
        ({"minutes": 91}, 422, "minutes"),
        ({"red_flags": ["hiccups"]}, 422, "red_flags.0"),
        ({"minutez": 20}, 422, "minutez"),
    ],
)
def test_bad_profiles_name_the_field_and_store_nothing(
    fresh_client: TestClient, fresh_database_url: str, body: dict[str, Any], status: int, field: str
) -> None:
    response = fresh_client.post("/v1/routines", json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert field in [error["field"] for error in response.json()["errors"]]
    assert routine_count(fresh_database_url) == 0


@pytest.mark.parametrize(
    ("content", "status"),
    [(b"{not json", 400), (b"", 422), (b"[]", 422), (b"x" * 2_000_000, 413)],
)
def test_malformed_and_oversized_bodies(
    fresh_client: TestClient, fresh_database_url: str, content: bytes, status: int
) -> None:
    response = fresh_client.post(
        "/v1/routines", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert routine_count(fresh_database_url) == 0


def test_a_routine_the_catalogue_cannot_fill_says_why(client: TestClient) -> None:
    """Nothing in the real catalogue leaves a profile with no items at all (heel raises fit
    everyone): the empty case is proved in tests/domain on a smaller catalogue."""
    routine = create(client, sensitivity="unknown", can_get_on_floor=False, minutes=90)
    assert routine["outcome"] == "routine"
    assert exercise_slugs(routine)
    assert routine["estimated_seconds"] < 0.8 * 90 * 60
    assert routine["explanation"]
    codes = {reason["code"] for excluded in routine["excluded"] for reason in excluded["reasons"]}
    assert {"position", "flag"} <= codes


def test_chains_grow_and_routines_never_change(client: TestClient) -> None:
    first = create(client, sensitivity="none")
    assert client.get(f"/v1/routines/{first['id']}/feedback").status_code == 404
    second = next_routine(give_feedback(client, first["id"], GOOD_FEEDBACK))
    third = next_routine(give_feedback(client, second["id"], GOOD_FEEDBACK))
    assert third["earlier_routine_ids"] == [first["id"], second["id"]]
    assert client.get(f"/v1/routines/{first['id']}").json() == first
    assert client.get(f"/v1/routines/{second['id']}").json() == second


def test_another_process_reads_the_same_routine(client: TestClient, database_url: str) -> None:
    routine = create(client, sensitivity="extension_sensitive", seed=5)
    with TestClient(create_app(Settings(database_url=database_url))) as other:
        assert other.get(f"/v1/routines/{routine['id']}").json() == routine


def test_unknown_routine_is_404(client: TestClient) -> None:
    assert client.get("/v1/routines/not-a-routine").status_code == 404
    assert client.get("/v1/routines/not-a-routine/feedback").status_code == 404
    response = give_feedback(client, "not-a-routine", GOOD_FEEDBACK)
    assert response.status_code == 404


def every_page(client: TestClient, url: str, limit: int) -> list[dict[str, Any]]:
    """Each page of a paged list, following `next_cursor` and its Link header to the end."""
    pages: list[dict[str, Any]] = []
    response = client.get(url, params={"limit": limit})
    while True:
        assert response.status_code == 200, response.text
        pages.append(response.json())
        if pages[-1]["next_cursor"] is None:
            assert "link" not in response.headers
            return pages
        link = re.fullmatch(r'<(.+)>; rel="next"', response.headers["link"])
        assert link is not None
        response = client.get(link.group(1))


def test_a_routine_lists_the_nearest_exclusions_and_pages_them_all(client: TestClient) -> None:
    routine = create(client, sensitivity="flexion_sensitive", target_areas=["hamstrings"])
    catalogue = client.get("/v1/catalogue").json()["items"]
    pages = every_page(client, f"/v1/routines/{routine['id']}/excluded", 5)
    left_out = [entry for page in pages for entry in page["items"]]
    assert all(len(page["items"]) == 5 for page in pages[:-1])
    chosen = set(exercise_slugs(routine))
    assert [entry["slug"] for entry in left_out] == sorted(
        exercise["slug"] for exercise in catalogue if exercise["slug"] not in chosen
    )
    assert all(entry["reasons"] for entry in left_out)
    by_slug = {entry["slug"]: entry for entry in left_out}
    assert len(routine["excluded"]) == min(12, len(left_out))
    assert all(by_slug[shown["slug"]] == shown for shown in routine["excluded"])
    summary = routine["excluded_summary"]
    assert summary["total"] == len(left_out)
    assert summary["suited"] == sum(
        entry["reasons"][0]["code"] in {"time", "routine_limit", "alternative_chosen"}
        for entry in left_out
    )
    for counted in summary["by_rule"]:
        assert counted["count"] == sum(
            counted["rule"] in {reason["rule"] for reason in entry["reasons"]} for entry in left_out
        )


def test_the_excluded_pages_of_a_referral_are_empty_and_cursors_stay_with_their_routine(
    client: TestClient,
) -> None:
    referral = create(client, red_flags=["fever"])
    listed = client.get(f"/v1/routines/{referral['id']}/excluded")
    assert listed.json() == {"items": [], "next_cursor": None}
    assert referral["excluded_summary"] == {"total": 0, "by_rule": [], "suited": 0}
    one, other = create(client, sensitivity="none"), create(client, sensitivity="unknown")
    cursor = client.get(f"/v1/routines/{one['id']}/excluded", params={"limit": 1}).json()[
        "next_cursor"
    ]
    moved = client.get(f"/v1/routines/{other['id']}/excluded", params={"cursor": cursor})
    assert moved.status_code == 400
    assert moved.json()["errors"][0]["field"] == "cursor"
    assert client.get(f"/v1/routines/{uuid.uuid4()}/excluded").status_code == 404
    too_many = client.get(f"/v1/routines/{one['id']}/excluded", params={"limit": 101})
    assert too_many.status_code == 422


class TestRoutineStoredBeforeTheExclusionSummary:
    """A routine stored by older code lists every exclusion and has no `excluded_summary`: it
    is answered in today's shape, its summary counted from that list, the stored bytes kept."""

    PROFILE = {
        "sensitivity": "flexion_sensitive",
        "target_areas": ["lower_back"],
        "available_equipment": ["mat"],
        "seed": 5,
    }

    def test_it_is_read_with_a_summary_and_a_bounded_list(
        self, fresh_database_url: str, excluded_of: Any
    ) -> None:
        settings = Settings(database_url=fresh_database_url)
        with TestClient(create_app(settings)) as client:
            created = client.post("/v1/routines", json=self.PROFILE)
            assert created.status_code == 201, created.text
            routine = client.get(f"/v1/routines/{created.json()['id']}").json()
            every = excluded_of(client, routine)
        assert len(every) > 12, "the catalogue leaves out more than a routine lists"
        old_shape = {key: value for key, value in routine.items() if key != "excluded_summary"}
        old_shape["excluded"] = every
        old_bytes = zstandard.ZstdCompressor().compress(orjson.dumps(old_shape))
        engine = build_engine(fresh_database_url)
        with engine.begin() as connection:
            connection.execute(
                sa.update(RoutineRow)
                .where(sa.column("id") == routine["id"])
                .values(document_zstd=old_bytes, dictionary_id=None)
            )

        with TestClient(create_app(settings)) as client:
            response = client.get(f"/v1/routines/{routine['id']}")
            assert response.status_code == 200, response.text
            read = response.json()
            assert client.get(f"/v1/routines/{routine['id']}/handout").status_code == 200
            assert client.get(f"/fhir/r4/PlanDefinition/{routine['id']}").status_code == 200

        assert read["excluded_summary"] == routine["excluded_summary"]
        assert read["excluded_summary"]["total"] == len(every)
        assert len(read["excluded"]) == 12
        assert all(item in every for item in read["excluded"])
        assert list(read) == list(routine), "fields in the published order"
        with Session(engine) as session:
            stored = session.get(RoutineRow, routine["id"])
            assert stored is not None
            assert stored.document_zstd == old_bytes
        engine.dispose()
