"""Offline sync through HTTP: GET /v1/catalogue once, then GET /v1/changes since a revision, as a
mobile app keeping its own copy would, while editors create, edit, retire and import."""

import gzip
import random
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col

from app.api.schemas import CatalogueDownload, ChangesPage
from app.core.security import Role
from app.db.models import AuditEntryRow
from app.db.session import build_engine

PROBLEM = "application/problem+json"
Document = dict[str, Any]


@pytest.fixture
def editor(fresh_database_url: str, issue_key: Callable[..., dict[str, str]]) -> dict[str, str]:
    return issue_key(fresh_database_url, "sync-editor", Role.editor)


@pytest.fixture
def admin(fresh_database_url: str, issue_key: Callable[..., dict[str, str]]) -> dict[str, str]:
    return issue_key(fresh_database_url, "sync-admin", Role.admin)


def published_catalogue(client: TestClient) -> dict[str, Document]:
    """What the server publishes: every slug the list pages through, each as its own GET."""
    slugs: list[str] = []
    url: str | None = "/v1/exercises?limit=100"
    while url is not None:
        response = client.get(url)
        slugs += [item["slug"] for item in response.json()["items"]]
        url = response.links.get("next", {}).get("url")
    return {slug: client.get(f"/v1/exercises/{slug}").json() for slug in slugs}


class SyncingClient:
    """An app's own copy of the catalogue, kept with the two sync endpoints alone."""

    def __init__(self, http: TestClient) -> None:
        self.http = http
        self.copy: dict[str, Document] = {}
        self.revision = 0

    def download(self) -> None:
        body = self.http.get("/v1/catalogue").json()
        self.copy = {item["slug"]: item for item in body["items"]}
        self.revision = body["revision"]

    def sync(self, limit: int = 100, between_pages: Callable[[], None] | None = None) -> None:
        response = self.http.get("/v1/changes", params={"since": self.revision, "limit": limit})
        revisions = set()
        while True:
            assert response.status_code == 200, response.text
            body = response.json()
            revisions.add(body["revision"])
            for item in body["items"]:
                if item["change"] == "published":
                    self.copy[item["slug"]] = item["exercise"]
                else:
                    assert item["exercise"] is None
                    self.copy.pop(item["slug"], None)
            if "next" not in response.links:
                break
            if between_pages is not None:
                between_pages()
            response = self.http.get(response.links["next"]["url"])
        assert len(revisions) == 1, "every page of one pass answers up to the same revision"
        self.revision = body["revision"]


def new_exercise(client: TestClient, slug: str, status: str = "published") -> Document:
    document: Document = client.get("/v1/exercises/heel-raises").json()
    for field in ("version", "citations", "illustrations"):
        document.pop(field)
    document.update(
        slug=slug,
        name=f"Exercise {slug}",
        status=status,
        citations=[{"source": "aaos-back-pain-exercises"}],
        progressions={"easier": [], "harder": []},
        variants=[],
    )
    return document


def admin_etag(client: TestClient, slug: str, editor: dict[str, str]) -> str:
    response = client.get(f"/v1/admin/exercises/{slug}", headers=editor)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


def patch(client: TestClient, slug: str, change: Document, editor: dict[str, str]) -> int:
    headers = {**editor, "If-Match": admin_etag(client, slug, editor)}
    return client.patch(f"/v1/exercises/{slug}", json=change, headers=headers).status_code


class TestCatalogueDownload:
    def test_holds_every_published_exercise_as_its_own_get_has_it(
        self, client: TestClient, seed_exercise_count: int
    ) -> None:
        response = client.get("/v1/catalogue")
        CatalogueDownload.model_validate_json(response.content)
        body = response.json()
        assert len(body["items"]) == seed_exercise_count
        assert {item["slug"]: item for item in body["items"]} == published_catalogue(client)
        assert [item["slug"] for item in body["items"]] == sorted(published_catalogue(client))
        assert response.headers["etag"] == f'"{body["revision"]}"'
        for slug in ("cat-stretch", "heel-raises"):
            assert client.get(f"/v1/exercises/{slug}").content in response.content

    def test_is_gzip_compressed_for_a_client_that_accepts_it(self, client: TestClient) -> None:
        plain = client.get("/v1/catalogue", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        with client.stream(
            "GET", "/v1/catalogue", headers={"Accept-Encoding": "gzip, br"}
        ) as compressed:
            raw = b"".join(compressed.iter_raw())
            assert compressed.headers["content-encoding"] == "gzip"
            assert compressed.headers["vary"] == "Accept-Encoding"
            assert compressed.headers["etag"] == plain.headers["etag"]
        assert len(raw) < len(plain.content) / 3
        assert gzip.decompress(raw) == plain.content

    @pytest.mark.parametrize("encoding", ["gzip;q=0", "identity", "br"])
    def test_is_plain_unless_gzip_is_accepted(self, client: TestClient, encoding: str) -> None:
        response = client.get("/v1/catalogue", headers={"Accept-Encoding": encoding})
        assert "content-encoding" not in response.headers

    def test_if_none_match_with_the_revision_is_304(self, client: TestClient) -> None:
        etag = client.get("/v1/catalogue").headers["etag"]
        for header in (etag, f"W/{etag}", f'"stale", {etag}', "*"):
            response = client.get("/v1/catalogue", headers={"If-None-Match": header})
            assert response.status_code == 304, header
            assert response.content == b""
            assert response.headers["etag"] == etag
        assert client.get("/v1/catalogue", headers={"If-None-Match": '"0"'}).status_code == 200

    def test_a_change_moves_the_etag(
        self, fresh_client: TestClient, editor: dict[str, str]
    ) -> None:
        before = fresh_client.get("/v1/catalogue").headers["etag"]
        assert patch(fresh_client, "cat-stretch", {"name": "Cat stretch, renamed"}, editor) == 200
        after = fresh_client.get("/v1/catalogue", headers={"If-None-Match": before})
        assert after.status_code == 200
        assert after.headers["etag"] == f'"{after.json()["revision"]}"' != before
        names = {item["slug"]: item["name"] for item in after.json()["items"]}
        assert names["cat-stretch"] == "Cat stretch, renamed"


class TestChanges:
    def test_since_zero_is_every_published_exercise_oldest_change_first(
        self, client: TestClient, seed_exercise_count: int
    ) -> None:
        body = client.get("/v1/changes", params={"since": 0}).json()
        items = body["items"]
        assert len(items) == seed_exercise_count
        assert {item["change"] for item in items} == {"published"}
        assert [(i["revision"], i["slug"]) for i in items] == sorted(
            (i["revision"], i["slug"]) for i in items
        )
        assert {i["slug"]: i["exercise"] for i in items} == published_catalogue(client)
        assert body["revision"] == client.get("/v1/catalogue").json()["revision"]
        assert body["next_cursor"] is None

    def test_items_carry_the_same_bytes_as_the_exercise_read(self, client: TestClient) -> None:
        response = client.get("/v1/changes", params={"since": 0})
        for slug in ("cat-stretch", "prone-back-extension"):
            detail = client.get(f"/v1/exercises/{slug}").content
            assert b',"exercise":' + detail + b"}" in response.content

    def test_pages_follow_the_link_to_the_end(
        self, client: TestClient, seed_exercise_count: int
    ) -> None:
        seen: list[str] = []
        response = client.get("/v1/changes", params={"since": 0, "limit": 5})
        while True:
            body = response.json()
            assert len(body["items"]) <= 5
            seen += [item["slug"] for item in body["items"]]
            if body["next_cursor"] is None:
                assert "link" not in response.headers
                break
            assert response.links["next"]["url"].endswith(f"cursor={body['next_cursor']}")
            response = client.get(response.links["next"]["url"])
        assert len(seen) == len(set(seen)) == seed_exercise_count

    def test_since_the_current_revision_or_beyond_is_an_empty_page(
        self, client: TestClient
    ) -> None:
        revision = client.get("/v1/catalogue").json()["revision"]
        for since in (revision, revision + 1, 10**12):
            body = client.get("/v1/changes", params={"since": since}).json()
            assert body == {"revision": revision, "items": [], "next_cursor": None}

    @pytest.mark.parametrize(
        ("params", "status", "field"),
        [
            ({}, 422, "since"),
            ({"since": "-1"}, 422, "since"),
            ({"since": "one"}, 422, "since"),
            ({"since": "0", "limit": "0"}, 422, "limit"),
            ({"since": "0", "limit": "101"}, 422, "limit"),
            ({"since": "0", "cursor": "bm90IGEgY3Vyc29y"}, 400, "cursor"),
            ({"since": "0", "cursor": "eyJhZnRlciI6ImNhdC1zdHJldGNoIn0"}, 400, "cursor"),
            ({"since": "0", "cursor": "%%%"}, 422, "cursor"),
            ({"since": "0", "sinse": "1"}, 400, "sinse"),
        ],
    )
    def test_bad_parameters_are_problems_naming_them(
        self, client: TestClient, params: dict[str, str], status: int, field: str
    ) -> None:
        response = client.get("/v1/changes", params=params)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == PROBLEM
        assert field in {error["field"] for error in response.json()["errors"]}

    def test_a_cursor_belongs_to_its_since(self, client: TestClient) -> None:
        first = client.get("/v1/changes", params={"since": 0, "limit": 2}).json()
        response = client.get(
            "/v1/changes", params={"since": 1, "limit": 2, "cursor": first["next_cursor"]}
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "cursor"

    def test_retired_and_unpublished_exercises_become_tombstones(
        self, fresh_client: TestClient, editor: dict[str, str]
    ) -> None:
        since = fresh_client.get("/v1/catalogue").json()["revision"]
        retire = {**editor, "If-Match": admin_etag(fresh_client, "cat-stretch", editor)}
        assert fresh_client.delete("/v1/exercises/cat-stretch", headers=retire).status_code == 200
        assert patch(fresh_client, "heel-raises", {"status": "draft"}, editor) == 200
        assert patch(fresh_client, "ankle-pumps", {"name": "Ankle pumps, renamed"}, editor) == 200
        response = fresh_client.get("/v1/changes", params={"since": since})
        ChangesPage.model_validate_json(response.content)
        body = response.json()
        assert [(i["slug"], i["change"], i["exercise"] is None) for i in body["items"]] == [
            ("cat-stretch", "retired", True),
            ("heel-raises", "unpublished", True),
            ("ankle-pumps", "published", False),
        ]
        assert [i["revision"] for i in body["items"]] == [since + 1, since + 2, since + 3]
        assert body["revision"] == since + 3
        assert body["items"][2]["exercise"] == fresh_client.get("/v1/exercises/ankle-pumps").json()

    def test_a_draft_never_published_never_appears(
        self, fresh_client: TestClient, editor: dict[str, str]
    ) -> None:
        since = fresh_client.get("/v1/catalogue").json()["revision"]
        draft = new_exercise(fresh_client, "secret-draft", status="draft")
        assert fresh_client.post("/v1/exercises", json=draft, headers=editor).status_code == 201
        assert patch(fresh_client, "secret-draft", {"name": "Still a draft"}, editor) == 200
        assert patch(fresh_client, "secret-draft", {"status": "retired"}, editor) == 200
        body = fresh_client.get("/v1/changes", params={"since": 0}).json()
        assert "secret-draft" not in fresh_client.get("/v1/changes", params={"since": 0}).text
        assert body["revision"] == since + 3
        assert patch(fresh_client, "secret-draft", {"status": "published"}, editor) == 200
        assert patch(fresh_client, "secret-draft", {"status": "draft"}, editor) == 200
        items = fresh_client.get("/v1/changes", params={"since": since}).json()["items"]
        assert [(i["slug"], i["change"]) for i in items] == [("secret-draft", "unpublished")]

    def test_a_row_written_without_an_audit_entry_still_leaves_a_tombstone(
        self, fresh_client: TestClient, fresh_database_url: str, editor: dict[str, str]
    ) -> None:
        """As bench/catalogue.py writes rows: the retirement's audit entry says it was published."""
        engine = build_engine(fresh_database_url)
        with Session(engine) as session, session.begin():
            session.execute(
                sa.delete(AuditEntryRow).where(col(AuditEntryRow.exercise_slug) == "cat-stretch")
            )
        engine.dispose()
        since = fresh_client.get("/v1/catalogue").json()["revision"]
        retire = {**editor, "If-Match": admin_etag(fresh_client, "cat-stretch", editor)}
        assert fresh_client.delete("/v1/exercises/cat-stretch", headers=retire).status_code == 200
        items = fresh_client.get("/v1/changes", params={"since": since}).json()["items"]
        assert [(i["slug"], i["change"]) for i in items] == [("cat-stretch", "retired")]

    def test_a_write_between_pages_is_never_missed(
        self, fresh_client: TestClient, editor: dict[str, str]
    ) -> None:
        """An exercise changed after the pass began leaves its place for one past the pass's
        revision: this pass skips it, the next one brings it."""
        first = fresh_client.get("/v1/changes", params={"since": 0, "limit": 3})
        pass_revision = first.json()["revision"]
        served = [item["slug"] for item in first.json()["items"]]
        later = [slug for slug in sorted(published_catalogue(fresh_client)) if slug not in served]
        assert patch(fresh_client, served[0], {"name": "Renamed after its page"}, editor) == 200
        assert patch(fresh_client, later[-1], {"name": "Renamed before its page"}, editor) == 200
        retire = {**editor, "If-Match": admin_etag(fresh_client, later[0], editor)}
        assert fresh_client.delete(f"/v1/exercises/{later[0]}", headers=retire).status_code == 200
        rest = fresh_client.get(first.links["next"]["url"].replace("limit=3", "limit=100"))
        assert rest.json()["revision"] == pass_revision
        rest_slugs = [item["slug"] for item in rest.json()["items"]]
        assert later[-1] not in rest_slugs
        assert later[0] not in rest_slugs
        items = fresh_client.get("/v1/changes", params={"since": pass_revision}).json()["items"]
        assert {(i["slug"], i["change"]) for i in items} == {
            (served[0], "published"),
            (later[-1], "published"),
            (later[0], "retired"),
        }


def random_write(
    http: TestClient, rng: random.Random, editor: dict[str, str], admin: dict[str, str]
) -> str:
    """One editor's write, picked at random: create (published or draft), edit, retire,
    unpublish, republish or a bulk import changing a few exercises and adding one. Returns
    which it made."""
    listing = http.get("/v1/admin/exercises", params={"limit": 100}, headers=editor).json()
    by_status: dict[str, list[str]] = {}
    for item in listing["items"]:
        by_status.setdefault(item["status"], []).append(item["slug"])
    live = by_status.get("published", [])
    hidden = by_status.get("draft", []) + by_status.get("retired", [])
    serial = rng.randrange(10**6)
    action = rng.choice(["create", "edit", "edit", "retire", "unpublish", "publish", "import"])
    if action == "create":
        document = new_exercise(http, f"sync-{serial}", rng.choice(["published", "draft"]))
        assert http.post("/v1/exercises", json=document, headers=editor).status_code == 201
    elif action == "edit":
        slug = rng.choice(live + hidden)
        assert patch(http, slug, {"summary": f"Edited {serial}."}, editor) == 200
    elif action == "retire":
        slug = rng.choice(live)
        headers = {**editor, "If-Match": admin_etag(http, slug, editor)}
        assert http.delete(f"/v1/exercises/{slug}", headers=headers).status_code == 200
    elif action == "unpublish":
        assert patch(http, rng.choice(live), {"status": "draft"}, editor) == 200
    elif action == "publish":
        if not hidden:
            return "nothing"
        assert patch(http, rng.choice(hidden), {"status": "published"}, editor) == 200
    else:
        bundle = http.get("/v1/admin/export", headers=admin).json()
        for exercise in rng.sample(bundle["exercises"], 3):
            exercise["summary"] = f"Imported {serial}."
        created = new_exercise(http, f"imported-{serial}")
        created.pop("status")
        bundle["exercises"].append({**created, "status": "published"})
        response = http.post("/v1/admin/import", json=bundle, headers=admin)
        assert response.status_code == 200, response.text
    return action


def test_a_client_keeps_an_exact_copy_through_random_writes(
    fresh_client: TestClient, editor: dict[str, str], admin: dict[str, str]
) -> None:
    """Two apps: one starts from the download, one from a full sync (since=0). Each round some
    writes land, some of them between the pages of the apps' passes; after each round both
    copies equal what the server publishes, exactly."""
    rng = random.Random(11)
    downloaded, synced = SyncingClient(fresh_client), SyncingClient(fresh_client)
    downloaded.download()
    synced.sync(limit=7)
    made: list[str] = []

    def write() -> None:
        made.append(random_write(fresh_client, rng, editor, admin))

    for _ in range(10):
        for _ in range(rng.randint(1, 3)):
            write()
        downloaded.sync(limit=rng.randint(1, 10), between_pages=write)
        synced.sync(limit=rng.randint(1, 10))
        downloaded.sync()
        truth = published_catalogue(fresh_client)
        assert downloaded.copy == truth
        assert synced.copy == truth
        assert sorted(truth) == sorted(downloaded.copy)
        catalogue = fresh_client.get("/v1/catalogue").json()
        assert {item["slug"]: item for item in catalogue["items"]} == truth
        assert downloaded.revision == synced.revision == catalogue["revision"]
    assert {"create", "edit", "retire", "unpublish", "publish", "import"} <= set(made)
