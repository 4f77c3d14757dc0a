"""Rate limits through HTTP, on both stores and both limiter storages (memory, Redis).

The limits here are per hour, not per minute: the sliding-window counter weighs the previous
window's hits by how much of it still overlaps, so two hits that straddle a window's start can
both pass. With per-minute windows a slow run crossed one about once in fifty tests."""

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from limits.errors import StorageError
from sqlmodel import Session

from app.core.rate_limits import STORAGE_RETRY_SECONDS, StorageBreaker
from app.core.security import Role
from app.core.settings import Settings
from app.db.key_queries import create_key
from app.db.session import build_engine
from app.main import create_app

PROBLEM = "application/problem+json"
REDIS_URL = "redis://127.0.0.1:6379"
PROFILE = {"sensitivity": "none", "level": "beginner"}
FEEDBACK = {
    "pain_before": 4,
    "pain_after": 3,
    "completed": True,
    "difficulty": "right",
    "new_leg_symptoms": False,
}


def make_key(url: str, name: str, role: Role) -> str:
    engine = build_engine(url)
    with Session(engine) as session, session.begin():
        key = create_key(session, name, role)
    engine.dispose()
    return key


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


@pytest.fixture(params=["memory://", REDIS_URL])
def limiter_storage(request: pytest.FixtureRequest) -> str:
    storage: str = request.param
    if storage.startswith("redis") and not redis_available():
        pytest.skip("no Redis at 127.0.0.1:6379")
    return storage


def limited_app(url: str, storage: str, refusal_delay: float = 0, **limits: str) -> Any:
    settings = Settings(
        database_url=url,
        rate_limit_storage=storage,
        rate_limit_routines=limits.get("routines", "1000/minute"),
        rate_limit_auth_failures=limits.get("auth_failures", "1000/minute"),
        rate_limit_refusal_delay_seconds=refusal_delay,
    )
    return create_app(settings)


def new_address() -> str:
    """A client address of this test's own, so budgets kept in a shared Redis never mix."""
    return f"test-{uuid.uuid4().hex}"


@pytest.fixture
def address() -> str:
    return new_address()


@pytest.fixture
def limited(fresh_database_url: str, limiter_storage: str, address: str) -> Iterator[TestClient]:
    app = limited_app(
        fresh_database_url, limiter_storage, routines="3/hour", auth_failures="2/hour"
    )
    with TestClient(app, client=(address, 50000)) as test_client:
        yield test_client


def assert_too_many(response: Any) -> dict[str, Any]:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == PROBLEM
    assert 1 <= int(response.headers["retry-after"]) <= 3600
    body: dict[str, Any] = response.json()
    assert body["status"] == 429
    assert body["type"] == "/problems/too-many-requests"
    return body


def test_routine_creation_and_feedback_share_one_budget(limited: TestClient) -> None:
    first = limited.post("/v1/routines", json=PROFILE)
    assert first.status_code == 201
    feedback_url = f"/v1/routines/{first.json()['id']}/feedback"
    owner = {"Authorization": f"Bearer {first.json()['delete_token']}"}
    feedback = limited.post(feedback_url, json=FEEDBACK, headers=owner)
    assert feedback.status_code == 201
    assert limited.post("/v1/routines", json=PROFILE).status_code == 201
    body = assert_too_many(limited.post("/v1/routines", json=PROFILE))
    assert "3 per 1 hour" in body["detail"]
    assert_too_many(limited.post(feedback_url, json=FEEDBACK, headers=owner))


def test_limited_answers_say_the_budget_in_ratelimit_fields(limited: TestClient) -> None:
    """IETF RateLimit header fields on every answer of a limited operation: a success, a
    refused body, the 429 itself (nothing left)."""
    policy = '"routine-writes";q=3;w=3600'
    first = limited.post("/v1/routines", json=PROFILE)
    assert first.headers["ratelimit-policy"] == policy
    remaining, reset = ratelimit(first.headers["ratelimit"])
    assert remaining == 2
    assert 1 <= reset <= 3600
    invalid = limited.post("/v1/routines", json={"minutes": "20"})
    assert invalid.status_code == 422
    assert (invalid.headers["ratelimit-policy"], ratelimit(invalid.headers["ratelimit"])[0]) == (
        policy,
        1,
    )
    limited.post("/v1/routines", json=PROFILE)
    refused = limited.post("/v1/routines", json=PROFILE)
    assert_too_many(refused)
    assert refused.headers["ratelimit-policy"] == policy
    assert ratelimit(refused.headers["ratelimit"])[0] == 0
    assert "ratelimit" not in limited.get("/v1/exercises").headers


def ratelimit(field: str) -> tuple[int, int]:
    """`"routine-writes";r=2;t=3600` as (remaining, seconds until reset)."""
    name, *parameters = field.split(";")
    assert name == '"routine-writes"'
    values = dict(parameter.split("=") for parameter in parameters)
    return int(values["r"]), int(values["t"])


def test_reads_are_never_limited(limited: TestClient) -> None:
    created = [limited.post("/v1/routines", json=PROFILE) for _ in range(4)]
    assert [response.status_code for response in created] == [201, 201, 201, 429]
    routine_id = created[0].json()["id"]
    for _ in range(10):
        assert limited.get("/v1/exercises").status_code == 200
        assert limited.get(f"/v1/routines/{routine_id}").status_code == 200


def test_each_client_has_its_own_budget(fresh_database_url: str, limiter_storage: str) -> None:
    app = limited_app(fresh_database_url, limiter_storage, routines="1/hour")
    with TestClient(app, client=(new_address(), 1)) as one:
        assert one.post("/v1/routines", json=PROFILE).status_code == 201
        assert_too_many(one.post("/v1/routines", json=PROFILE))
    with TestClient(app, client=(new_address(), 2)) as other:
        assert other.post("/v1/routines", json=PROFILE).status_code == 201


def test_failed_authentications_are_limited_but_the_right_key_gets_through(
    limited: TestClient, fresh_database_url: str
) -> None:
    """Past the budget every wrong key is 429, while the right key from the same address is
    served: someone else's typos (or guesses) behind one NAT do not lock its owner out."""
    good = {"Authorization": f"Bearer {make_key(fresh_database_url, 'editor', Role.editor)}"}
    wrong = {"Authorization": "Bearer bck_wrong"}
    assert limited.get("/v1/admin/exercises", headers=good).status_code == 200
    assert limited.get("/v1/admin/exercises", headers=wrong).status_code == 401
    assert limited.get("/v1/admin/exercises", headers=wrong).status_code == 401
    assert_too_many(limited.get("/v1/admin/exercises", headers=wrong))
    assert_too_many(limited.get("/v1/admin/exercises", headers={"Authorization": "Bearer x"}))
    assert limited.get("/v1/admin/exercises", headers=good).status_code == 200
    assert_too_many(limited.get("/v1/admin/exercises", headers=wrong))
    assert limited.get("/v1/exercises").status_code == 200


def test_the_admin_login_page_counts_failed_keys(
    limited: TestClient, fresh_database_url: str
) -> None:
    origin = {"Origin": "http://testserver"}
    for _ in range(2):
        response = limited.post("/admin/login", data={"key": "bck_wrong"}, headers=origin)
        assert response.status_code == 401
    response = limited.post("/admin/login", data={"key": "bck_wrong"}, headers=origin)
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("text/html")
    assert int(response.headers["retry-after"]) >= 1
    admin_key = make_key(fresh_database_url, "admin", Role.admin)
    response = limited.post(
        "/admin/login", data={"key": admin_key}, headers=origin, follow_redirects=False
    )
    assert response.status_code == 303, "the right key still logs in"


def test_processes_naming_one_redis_share_one_budget(fresh_database_url: str) -> None:
    if not redis_available():
        pytest.skip("no Redis at 127.0.0.1:6379")
    address = new_address()
    first, second = (
        limited_app(fresh_database_url, REDIS_URL, routines="2/hour") for _ in range(2)
    )
    with (
        TestClient(first, client=(address, 1)) as one,
        TestClient(second, client=(address, 2)) as other,
    ):
        assert one.post("/v1/routines", json=PROFILE).status_code == 201
        assert other.post("/v1/routines", json=PROFILE).status_code == 201
        assert_too_many(one.post("/v1/routines", json=PROFILE))
        assert_too_many(other.post("/v1/routines", json=PROFILE))


def test_a_refusal_is_answered_after_a_pause_that_holds_up_nothing_else(
    fresh_database_url: str, limiter_storage: str
) -> None:
    """A client past its budget waits RATE_LIMIT_REFUSAL_DELAY_SECONDS for each 429, so it
    cannot make the server refuse thousands of requests a second; reads are answered meanwhile
    (the pause is a timer on the event loop, not a blocked thread)."""
    app = limited_app(fresh_database_url, limiter_storage, refusal_delay=1.0, routines="1/hour")
    with TestClient(app, client=(new_address(), 1)) as client:
        assert client.post("/v1/routines", json=PROFILE).status_code == 201
        refusal: list[Any] = []
        refused = threading.Thread(
            target=lambda: refusal.append(client.post("/v1/routines", json=PROFILE))
        )
        started = time.monotonic()
        refused.start()
        time.sleep(0.2)
        read = client.get("/v1/exercises")
        read_at = time.monotonic() - started
        refused.join()
        took = time.monotonic() - started
    assert read.status_code == 200
    assert read_at < 0.9, "a read waited behind the paused refusal"
    assert_too_many(refusal[0])
    assert took >= 1.0, f"the refusal came after {took:.2f} s, without its pause"


def test_an_unreachable_redis_limits_nothing_and_breaks_nothing(
    fresh_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = limited_app(fresh_database_url, "redis://127.0.0.1:1", routines="1/hour")
    with TestClient(app, client=(new_address(), 1)) as test_client:
        for _ in range(5):
            assert test_client.post("/v1/routines", json=PROFILE).status_code == 201
    outage = [r for r in caplog.records if "rate limit storage failed" in r.getMessage()]
    assert len(outage) == 1, "one line per outage, not one per request"


def test_the_storage_breaker_skips_a_failed_storage_then_tries_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A frozen Redis costs its timeout once: for a few seconds after a failure the storage is
    not tried; then it is, and its recovery is logged once."""
    caplog.set_level(logging.INFO, logger="app.rate_limits")
    now = [100.0]
    breaker = StorageBreaker(clock=lambda: now[0])
    assert not breaker.skipping()
    breaker.failed(StorageError(TimeoutError("frozen")))
    breaker.failed(StorageError(TimeoutError("frozen")))
    assert breaker.skipping()
    now[0] += STORAGE_RETRY_SECONDS + 0.1
    assert not breaker.skipping(), "tried again once the retry time has come"
    breaker.answered()
    breaker.answered()
    assert not breaker.skipping()
    lines = [r.getMessage() for r in caplog.records if r.name == "app.rate_limits"]
    assert len(lines) == 2, lines
    assert "failed" in lines[0]
    assert "works again" in lines[1]


@pytest.mark.parametrize(
    "field", ["rate_limit_routines", "rate_limit_auth_failures", "rate_limit_storage"]
)
def test_bad_settings_are_refused(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Settings.model_validate({field: "lots"})
