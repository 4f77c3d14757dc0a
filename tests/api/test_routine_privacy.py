"""People's routines stay theirs: delete tokens and tombstones, retention, idempotent creation,
logs that never hold a profile, key or token, and compact storage. Every test runs on both
stores."""

import hashlib
import logging
import os
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.security import Role
from app.core.settings import Settings
from app.db.key_queries import create_key
from app.db.migrations import upgrade
from app.db.models import RoutineDictionaryRow, RoutineFeedbackRow, RoutineRow
from app.db.routine_queries import purge_batch
from app.db.session import build_engine
from app.main import create_app

PROJECT = Path(__file__).resolve().parents[2]
PROBLEM = "application/problem+json"
PROFILE = {
    "sensitivity": "flexion_sensitive",
    "target_areas": ["lower_back", "hamstrings"],
    "available_equipment": ["mat"],
    "leg_symptoms": True,
    "seed": 3,
}
FEEDBACK = {
    "pain_before": 4,
    "pain_after": 3,
    "completed": True,
    "difficulty": "right",
    "new_leg_symptoms": False,
}
ROUTINES = sa.table(
    "routine",
    sa.column("id"),
    sa.column("created_at"),
    sa.column("outcome"),
    sa.column("previous_routine_id"),
    sa.column("document"),
)


def create(client: TestClient | httpx.Client, key: str | None = None, **profile: Any) -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    response = client.post("/v1/routines", json=profile or PROFILE, headers=headers)
    assert response.status_code == 201, response.text
    return response


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    return body


def rows(url: str, table: Any, *where: Any) -> list[Any]:
    engine = build_engine(url)
    with Session(engine) as session:
        found = list(session.exec(sa.select(table).where(*where)).scalars())  # type: ignore[call-overload]
        session.expunge_all()
    engine.dispose()
    return found


def routine_row(url: str, routine_id: str) -> RoutineRow | None:
    found = rows(url, RoutineRow, sa.column("id") == routine_id)
    return found[0] if found else None


def feedback_rows(url: str, routine_id: str) -> list[RoutineFeedbackRow]:
    return rows(url, RoutineFeedbackRow, sa.column("routine_id") == routine_id)


def make_admin_key(url: str, role: Role = Role.admin) -> str:
    engine = build_engine(url)
    with Session(engine) as session, session.begin():
        key = create_key(session, f"{role.value}-{uuid.uuid4().hex[:6]}", role)
    engine.dispose()
    return key


def age(url: str, routine_id: str, days: int) -> None:
    """Make a routine look `days` old."""
    engine = build_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.update(RoutineRow)
            .where(sa.column("id") == routine_id)
            .values(created_at=datetime.now(UTC) - timedelta(days=days))
        )
    engine.dispose()


class TestDeleteToken:
    def test_creation_returns_it_once_and_get_the_same_bytes_without_it(
        self, client: TestClient
    ) -> None:
        response = create(client)
        token = response.json()["delete_token"]
        stored = client.get(response.headers["location"]).content
        assert b"delete_token" not in stored
        assert response.content == stored[:-1] + b',"delete_token":"' + token.encode() + b'"}'

    def test_only_its_hash_is_stored(
        self, fresh_client: TestClient, fresh_database_url: str
    ) -> None:
        created = create(fresh_client).json()
        row = routine_row(fresh_database_url, created["id"])
        assert row is not None
        assert row.delete_token_hash == hashlib.sha256(created["delete_token"].encode()).hexdigest()
        columns = row.model_dump(exclude={"document_zstd"})
        assert created["delete_token"] not in repr(columns)

    def test_delete_removes_the_routine_its_feedback_and_profile_and_keeps_the_chain(
        self, fresh_client: TestClient, fresh_database_url: str
    ) -> None:
        first = create(fresh_client).json()
        following = fresh_client.post(
            f"/v1/routines/{first['id']}/feedback",
            json=FEEDBACK,
            headers=bearer(first["delete_token"]),
        )
        second = following.json()["next_routine"]
        second_bytes = fresh_client.get(f"/v1/routines/{second['id']}").content
        handout = f"/v1/routines/{first['id']}/handout?format=html"
        assert fresh_client.get(handout).status_code == 200  # rendered and cached

        deleted = fresh_client.delete(
            f"/v1/routines/{first['id']}", headers=bearer(first["delete_token"])
        )
        assert deleted.status_code == 204, deleted.text

        problem(fresh_client.get(f"/v1/routines/{first['id']}"), 410)
        problem(fresh_client.get(handout), 410)  # the cached handout holds the profile too
        problem(fresh_client.get(f"/v1/routines/{first['id']}/feedback"), 410)
        problem(
            fresh_client.post(
                f"/v1/routines/{first['id']}/feedback",
                json=FEEDBACK,
                headers=bearer(first["delete_token"]),
            ),
            410,
        )
        tombstone = routine_row(fresh_database_url, first["id"])
        assert tombstone is not None
        assert tombstone.deleted_at is not None
        assert tombstone.document_zstd is None
        assert tombstone.delete_token_hash is None
        assert tombstone.outcome == "deleted"
        assert feedback_rows(fresh_database_url, first["id"]) == []
        assert fresh_client.get(f"/v1/routines/{second['id']}").content == second_bytes
        assert orjson.loads(second_bytes)["previous_routine_id"] == first["id"]
        again = fresh_client.delete(
            f"/v1/routines/{first['id']}", headers=bearer(first["delete_token"])
        )
        problem(again, 410)

    def test_missing_or_wrong_token_is_refused_and_changes_nothing(
        self, fresh_client: TestClient, fresh_database_url: str
    ) -> None:
        mine, theirs = create(fresh_client).json(), create(fresh_client).json()
        fresh_client.post(
            f"/v1/routines/{mine['id']}/feedback",
            json=FEEDBACK,
            headers=bearer(mine["delete_token"]),
        )
        before = fresh_client.get(f"/v1/routines/{mine['id']}").content
        path = f"/v1/routines/{mine['id']}"

        missing = fresh_client.delete(path)
        problem(missing, 401)
        assert missing.headers["www-authenticate"].startswith("Bearer")
        problem(fresh_client.delete(path, headers={"Authorization": "Basic eDp5"}), 401)
        problem(fresh_client.delete(path, headers=bearer(theirs["delete_token"])), 403)
        problem(fresh_client.delete(path, headers=bearer("not-a-token")), 403)
        problem(fresh_client.delete("/v1/routines/no-such-id", headers=bearer("x")), 404)

        assert fresh_client.get(path).content == before
        assert len(feedback_rows(fresh_database_url, mine["id"])) == 1
        row = routine_row(fresh_database_url, mine["id"])
        assert row is not None
        assert row.deleted_at is None

    def test_a_routine_made_from_feedback_has_its_own_token(self, fresh_client: TestClient) -> None:
        first = create(fresh_client).json()
        second = fresh_client.post(
            f"/v1/routines/{first['id']}/feedback",
            json=FEEDBACK,
            headers=bearer(first["delete_token"]),
        ).json()["next_routine"]
        stored = fresh_client.get(f"/v1/routines/{second['id']}").json()
        assert stored == {k: v for k, v in second.items() if k != "delete_token"}
        path = f"/v1/routines/{second['id']}"
        problem(fresh_client.delete(path, headers=bearer(first["delete_token"])), 403)
        assert fresh_client.delete(path, headers=bearer(second["delete_token"])).status_code == 204
        assert fresh_client.get(f"/v1/routines/{first['id']}").status_code == 200


class TestRetention:
    def test_purge_command_deletes_what_is_older_than_retention(
        self, fresh_client: TestClient, fresh_database_url: str
    ) -> None:
        old = create(fresh_client).json()
        newer = fresh_client.post(
            f"/v1/routines/{old['id']}/feedback",
            json=FEEDBACK,
            headers=bearer(old["delete_token"]),
        ).json()["next_routine"]
        lone_old, young = create(fresh_client).json(), create(fresh_client).json()
        age(fresh_database_url, old["id"], 40)
        age(fresh_database_url, lone_old["id"], 40)

        def purge() -> str:
            completed = subprocess.run(
                [sys.executable, "-m", "app", "purge-routines"],
                cwd=PROJECT,
                env={
                    **os.environ,
                    "DATABASE_URL": fresh_database_url,
                    "ROUTINE_RETENTION_DAYS": "30",
                },
                capture_output=True,
                text=True,
                check=True,
            )
            return completed.stdout

        first_run = purge()
        assert "purged 2 routines" in first_run
        assert re.search(r"created before \S+\.\d{6}Z ", first_run), first_run
        assert "removed 1 tombstones" in first_run
        with TestClient(create_app(Settings(database_url=fresh_database_url))) as other:
            problem(other.get(f"/v1/routines/{old['id']}"), 410)
            for kept in (newer, young):
                assert other.get(f"/v1/routines/{kept['id']}").status_code == 200
        assert routine_row(fresh_database_url, lone_old["id"]) is None
        assert feedback_rows(fresh_database_url, old["id"]) == []
        second_run = purge()
        assert "purged 0 routines" in second_run
        assert "removed 0 tombstones" in second_run

    def test_admin_endpoint_needs_an_admin_key(
        self, fresh_client: TestClient, fresh_database_url: str
    ) -> None:
        old = create(fresh_client).json()
        age(fresh_database_url, old["id"], 400)
        path = "/v1/admin/routines/purge"
        problem(fresh_client.post(path), 401)
        editor = make_admin_key(fresh_database_url, Role.editor)
        problem(fresh_client.post(path, headers=bearer(editor)), 403)
        admin = bearer(make_admin_key(fresh_database_url))
        report = fresh_client.post(path, headers=admin).json()
        assert report["retention_days"] == 365
        assert report["cutoff"].endswith("Z")
        assert (report["purged"], report["tombstones_removed"]) == (1, 1)
        assert fresh_client.post(path, headers=admin).json()["purged"] == 0
        problem(fresh_client.get(f"/v1/routines/{old['id']}"), 404)

    def test_replicas_purging_at_once_each_routine_goes_once(
        self, fresh_client: TestClient, fresh_database_url: str
    ) -> None:
        old = [create(fresh_client).json()["id"] for _ in range(6)]
        for routine_id in old:
            age(fresh_database_url, routine_id, 400)
        cutoff = datetime.now(UTC) - timedelta(days=365)
        engine = build_engine(fresh_database_url)
        counts: list[int] = []

        def purge() -> None:
            purged = 0
            while True:
                with engine.begin() as connection:
                    batch = purge_batch(connection, cutoff, 2)
                purged += batch.purged
                if not (batch.purged or batch.tombstones_removed):
                    counts.append(purged)
                    return

        threads = [threading.Thread(target=purge) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        engine.dispose()
        assert sum(counts) == len(old)
        assert all(routine_row(fresh_database_url, routine_id) is None for routine_id in old)

    def test_a_purge_goes_in_small_batches_through_feedback_chains_and_reports_progress(
        self, fresh_client: TestClient, fresh_database_url: str
    ) -> None:
        """Chains of routines linked by feedback, purged three rows a transaction: every
        routine, feedback and tombstone goes, a line of progress after each batch, exit 0."""
        chains = []
        for _ in range(4):
            routine = create(fresh_client).json()
            chain, token = [routine["id"]], routine["delete_token"]
            for _ in range(2):
                given = fresh_client.post(
                    f"/v1/routines/{chain[-1]}/feedback", json=FEEDBACK, headers=bearer(token)
                )
                assert given.status_code == 201, given.text
                chain.append(given.json()["next_routine"]["id"])
                token = given.json()["next_routine"]["delete_token"]
            chains.append(chain)
        every = [routine_id for chain in chains for routine_id in chain]
        young = create(fresh_client).json()["id"]
        for routine_id in every:
            age(fresh_database_url, routine_id, 40)
        completed = subprocess.run(
            [sys.executable, "-m", "app", "purge-routines"],
            cwd=PROJECT,
            env={
                **os.environ,
                "DATABASE_URL": fresh_database_url,
                "ROUTINE_RETENTION_DAYS": "30",
                "ROUTINE_PURGE_BATCH_SIZE": "3",
            },
            capture_output=True,
            text=True,
            check=True,
        )
        lines = completed.stdout.splitlines()
        progress = [line for line in lines if line.startswith("... ")]
        assert len(progress) >= len(every) // 3, completed.stdout
        assert lines[-1].startswith(f"purged {len(every)} routines"), completed.stdout
        assert f"removed {len(every)} tombstones" in lines[-1]
        assert all(routine_row(fresh_database_url, routine_id) is None for routine_id in every)
        assert all(feedback_rows(fresh_database_url, routine_id) == [] for routine_id in every)
        assert fresh_client.get(f"/v1/routines/{young}").status_code == 200


class TestIdempotencyKey:
    def test_a_retry_returns_the_same_routine(
        self, fresh_client: TestClient, fresh_database_url: str
    ) -> None:
        key = str(uuid.uuid4())
        first, retry = create(fresh_client, key), create(fresh_client, key)
        assert retry.content == first.content
        assert retry.headers["location"] == first.headers["location"]
        assert retry.headers["idempotent-replayed"] == "true"
        assert "idempotent-replayed" not in first.headers
        assert len(rows(fresh_database_url, RoutineRow)) == 1
        token = first.json()["delete_token"]
        assert (
            fresh_client.delete(first.headers["location"], headers=bearer(token)).status_code == 204
        )

    def test_another_process_replays_the_same_bytes(
        self, fresh_client: TestClient, fresh_database_url: str
    ) -> None:
        key = str(uuid.uuid4())
        first = create(fresh_client, key)
        with TestClient(create_app(Settings(database_url=fresh_database_url))) as other:
            assert create(other, key).content == first.content
            assert (
                other.get(first.headers["location"]).content
                == fresh_client.get(first.headers["location"]).content
            )

    def test_the_same_key_with_another_body_is_refused(
        self, fresh_client: TestClient, fresh_database_url: str
    ) -> None:
        key = str(uuid.uuid4())
        create(fresh_client, key)
        other = fresh_client.post(
            "/v1/routines", json={**PROFILE, "minutes": 30}, headers={"Idempotency-Key": key}
        )
        body = problem(other, 409)
        assert body["type"] == "/problems/idempotency-key-reused"
        assert [error["field"] for error in body["errors"]] == ["idempotency-key"]
        assert len(rows(fresh_database_url, RoutineRow)) == 1

    def test_an_equivalent_body_is_the_same_request(self, fresh_client: TestClient) -> None:
        key = str(uuid.uuid4())
        first = create(fresh_client, key, minutes=20)
        assert create(fresh_client, key, minutes=20, seed=0, level="beginner").content == (
            first.content
        )

    @pytest.mark.parametrize("key", ["short", "has a space in it....", "x" * 256])
    def test_malformed_keys_are_422(self, fresh_client: TestClient, key: str) -> None:
        response = fresh_client.post("/v1/routines", json=PROFILE, headers={"Idempotency-Key": key})
        body = problem(response, 422)
        assert body["errors"][0]["location"] == "header"

    def test_a_key_is_forgotten_with_its_routine(self, fresh_client: TestClient) -> None:
        key = str(uuid.uuid4())
        first = create(fresh_client, key)
        fresh_client.delete(first.headers["location"], headers=bearer(first.json()["delete_token"]))
        assert create(fresh_client, key).json()["id"] != first.json()["id"]

    def test_concurrent_retries_make_one_routine(
        self, live_server: str, fresh_database_url: str
    ) -> None:
        key = str(uuid.uuid4())
        answers: list[httpx.Response] = []

        def post() -> None:
            with httpx.Client(base_url=live_server, timeout=30) as client:
                answers.append(create(client, key))

        threads = [threading.Thread(target=post) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(answers) == 6
        assert len({answer.content for answer in answers}) == 1
        assert len(rows(fresh_database_url, RoutineRow)) == 1


def give_feedback(
    client: TestClient, routine: dict[str, Any], key: str | None, **changes: Any
) -> Any:
    """Feedback on `routine` as its owner gives it (with its delete token)."""
    headers = {**bearer(routine["delete_token"]), **({"Idempotency-Key": key} if key else {})}
    return client.post(
        f"/v1/routines/{routine['id']}/feedback", json={**FEEDBACK, **changes}, headers=headers
    )


class TestFeedbackIdempotencyKey:
    def test_a_retry_replays_the_answer_with_the_next_routines_token(
        self, fresh_client: TestClient, fresh_database_url: str
    ) -> None:
        routine = create(fresh_client).json()
        key = str(uuid.uuid4())
        first = give_feedback(fresh_client, routine, key)
        assert first.status_code == 201, first.text
        retry = give_feedback(fresh_client, routine, key)
        assert retry.status_code == 201, retry.text
        assert retry.json() == first.json()
        assert retry.headers["location"] == first.headers["location"]
        assert retry.headers["idempotent-replayed"] == "true"
        assert "idempotent-replayed" not in first.headers
        assert len(rows(fresh_database_url, RoutineRow)) == 2
        following = retry.json()["next_routine"]
        deleted = fresh_client.delete(
            f"/v1/routines/{following['id']}", headers=bearer(following["delete_token"])
        )
        assert deleted.status_code == 204
        gone = give_feedback(fresh_client, routine, key)
        assert "deleted" in problem(gone, 409)["detail"]

    def test_a_stop_is_replayed_too(self, fresh_client: TestClient) -> None:
        routine = create(fresh_client).json()
        key = str(uuid.uuid4())
        first = give_feedback(fresh_client, routine, key, new_leg_symptoms=True)
        assert first.json()["recommendation"] == "stop_and_consult"
        retry = give_feedback(fresh_client, routine, key, new_leg_symptoms=True)
        assert (retry.status_code, retry.json()) == (201, first.json())
        assert "location" not in retry.headers

    def test_another_key_or_none_or_other_feedback_is_refused(
        self, fresh_client: TestClient, fresh_database_url: str
    ) -> None:
        routine = create(fresh_client).json()
        key = str(uuid.uuid4())
        give_feedback(fresh_client, routine, key)
        for other in (str(uuid.uuid4()), None):
            body = problem(give_feedback(fresh_client, routine, other), 409)
            assert body["type"] == "/problems/conflict"
        reused = problem(give_feedback(fresh_client, routine, key, pain_after=5), 409)
        assert reused["type"] == "/problems/idempotency-key-reused"
        assert [error["field"] for error in reused["errors"]] == ["idempotency-key"]
        assert len(rows(fresh_database_url, RoutineRow)) == 2

    def test_a_key_after_feedback_given_without_one_is_refused(
        self, fresh_client: TestClient
    ) -> None:
        routine = create(fresh_client).json()
        assert give_feedback(fresh_client, routine, None).status_code == 201
        problem(give_feedback(fresh_client, routine, str(uuid.uuid4())), 409)


class TestStorage:
    def test_a_routine_is_stored_compressed_against_its_catalogue(
        self, fresh_client: TestClient, fresh_database_url: str
    ) -> None:
        biggest: dict[str, Any] = {
            "sensitivity": "none",
            "level": "advanced",
            "target_areas": ["whole_body"],
            "available_equipment": ["mat", "treadmill", "limb_weights"],
            "minutes": 45,
            "include_aerobic": True,
            "phase": "maintenance",
        }
        response = create(fresh_client, **biggest)
        row = routine_row(fresh_database_url, response.json()["id"])
        assert row is not None
        assert row.document_zstd is not None
        stored = fresh_client.get(response.headers["location"]).content
        assert len(stored) > 10_000
        assert len(row.document_zstd) < 3_000
        create(fresh_client)
        assert len(rows(fresh_database_url, RoutineDictionaryRow)) == 1

    def test_routines_stored_before_compression_read_back_exactly(
        self, empty_database_url: str
    ) -> None:
        upgrade(empty_database_url, "0003")
        document = b'{"id":"legacy","profile":{"sensitivity":"none"},"outcome":"routine"}'
        engine = build_engine(empty_database_url)
        with engine.begin() as connection:
            connection.execute(
                sa.insert(ROUTINES).values(
                    id="legacy",
                    created_at=datetime.now(UTC),
                    outcome="routine",
                    previous_routine_id=None,
                    document=document.decode(),
                )
            )
        engine.dispose()
        upgrade(empty_database_url)
        with TestClient(create_app(Settings(database_url=empty_database_url))) as client:
            assert client.get("/v1/routines/legacy").content == document


@pytest.fixture
def app_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record of the app's own loggers (which do not propagate) and of SQLAlchemy's."""
    loggers = [logging.getLogger(name) for name in ("app", "sqlalchemy", "uvicorn")]
    for logger in loggers:
        logger.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG, logger="app")
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    yield caplog
    for logger in loggers:
        logger.removeHandler(caplog.handler)


def test_logs_never_hold_a_profile_a_key_or_a_token(
    fresh_database_url: str, app_log: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin_key = make_admin_key(fresh_database_url)
    idempotency_key = f"idem-{uuid.uuid4()}"
    app = create_app(Settings(database_url=fresh_database_url))
    with TestClient(app, raise_server_exceptions=False) as client:
        first = create(client, idempotency_key)
        create(client, idempotency_key)
        token = first.json()["delete_token"]
        feedback_url = first.headers["location"] + "/feedback"
        client.post(feedback_url, json=FEEDBACK, headers=bearer("wrong-token"))
        second = client.post(feedback_url, json=FEEDBACK, headers=bearer(token)).json()
        client.delete(first.headers["location"], headers=bearer("wrong-token"))
        client.delete(first.headers["location"], headers=bearer(token))
        client.post("/v1/admin/routines/purge", headers=bearer(admin_key))
        client.post("/v1/admin/routines/purge", headers=bearer(admin_key + "x"))
        fixed = uuid.uuid4()
        monkeypatch.setattr("app.services.routines.uuid.uuid4", lambda: fixed)
        create(client)
        failed = client.post("/v1/routines", json=PROFILE)
        assert failed.status_code == 500
    text = app_log.text
    assert "unhandled error" in text
    secrets = [token, second["next_routine"]["delete_token"], admin_key, idempotency_key]
    assert not [secret for secret in secrets if secret in text]
    for profile_trace in ('"sensitivity"', "flexion_sensitive", '"leg_symptoms"', "hamstrings"):
        assert profile_trace not in text
