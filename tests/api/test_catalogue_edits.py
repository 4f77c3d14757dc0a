"""An edit costs what it changes: one new snapshot entry, the changed component's links checked,
and no view built again from the whole catalogue."""

import asyncio
import json
import threading
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.security import Role
from app.core.settings import Settings
from app.db import catalogue_store
from app.db.catalogue_queries import bump_revision, exercise_documents, insert_exercise
from app.db.session import build_engine
from app.domain import catalogue as catalogue_module
from app.domain import sync
from app.domain.catalogue import Catalogue
from app.domain.exercise import Exercise
from app.domain.fhir import activity
from app.main import create_app
from app.services.content import Content

FHIR = {"Accept": "application/fhir+json"}


@pytest.fixture
def keys(fresh_database_url: str, issue_key: Callable[..., dict[str, str]]) -> dict[str, Any]:
    return {"editor": issue_key(fresh_database_url, "editor-key", Role.editor)}


def etag(client: TestClient, slug: str, headers: dict[str, str]) -> str:
    return client.get(f"/v1/admin/exercises/{slug}", headers=headers).headers["etag"]


def new_exercise(client: TestClient, slug: str, status: str) -> dict[str, Any]:
    """A new exercise made from a seeded one, linked to nothing."""
    document: dict[str, Any] = client.get("/v1/exercises/heel-raises").json()
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


def counting(calls: list[Any], function: Callable[..., Any]) -> Callable[..., Any]:
    def counted(*arguments: Any, **keywords: Any) -> Any:
        calls.append(arguments[:1])
        return function(*arguments, **keywords)

    return counted


def snapshot(client: TestClient) -> Catalogue:
    catalogue: Catalogue = client.app.state.runtime.catalogue_store.catalogue  # type: ignore[attr-defined]
    return catalogue


def patch(client: TestClient, slug: str, change: dict[str, Any], editor: dict[str, str]) -> Any:
    headers = {**editor, "If-Match": etag(client, slug, editor)}
    return client.patch(f"/v1/exercises/{slug}", json=change, headers=headers)


def test_an_edit_reads_and_makes_only_the_changed_entry(
    fresh_client: TestClient, keys: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(fresh_client)
    validated: list[Any] = []
    made: list[Any] = []
    whole: list[Any] = []
    monkeypatch.setattr(
        catalogue_store,
        "Exercise",
        SimpleNamespace(model_validate_json=counting(validated, Exercise.model_validate_json)),
    )
    stored = catalogue_module.CatalogueEntry.stored
    monkeypatch.setattr(
        catalogue_store,
        "CatalogueEntry",
        SimpleNamespace(stored=counting(made, stored)),
    )
    monkeypatch.setattr(Catalogue, "_assemble", counting(whole, Catalogue._assemble))

    response = patch(fresh_client, "cat-stretch", {"name": "Cat stretch, slow"}, keys["editor"])

    assert response.status_code == 200, response.text
    after = snapshot(fresh_client)
    assert after.revision > before.revision
    # the edited row only, read once by the writer's refresh (and maybe by the poller racing
    # it), from its stored JSON: a document written through a validated path is not validated
    # again
    assert 1 <= len(made) <= 2
    assert len(whole) == 0
    assert all(json.loads(document)["slug"] == "cat-stretch" for (document,) in made)
    assert validated == []
    assert after.changed_slugs == frozenset({"cat-stretch"})
    assert after.get("cat-stretch").exercise.name == "Cat stretch, slow"  # type: ignore[union-attr]
    untouched = [slug for slug in before.slugs if slug != "cat-stretch"]
    assert untouched
    assert all(after.by_slug[slug] is before.by_slug[slug] for slug in untouched)
    assert after.slugs is before.slugs  # the same slugs: the list is shared


def test_views_follow_an_edit_without_being_built_again(
    fresh_client: TestClient, keys: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    name_search = "/fhir/r4/ActivityDefinition?name=cat"
    assert fresh_client.get(name_search, headers=FHIR).json()["total"] == 1
    name_builds: list[Any] = []
    items: list[Any] = []
    build_names = activity.NameIndex.of
    monkeypatch.setattr(
        activity.NameIndex, "of", counting(name_builds, lambda catalogue: build_names(catalogue))
    )
    monkeypatch.setattr(sync, "feed_item", counting(items, sync.feed_item))
    editor = keys["editor"]

    assert patch(fresh_client, "cat-stretch", {"name": "Cat stretch, slow"}, editor).is_success
    created = new_exercise(fresh_client, "catapult-stretch", status="published")
    assert fresh_client.post("/v1/exercises", json=created, headers=editor).status_code == 201

    found = fresh_client.get(name_search, headers=FHIR).json()
    assert sorted(entry["resource"]["id"] for entry in found["entry"]) == [
        "cat-stretch",
        "catapult-stretch",
    ]
    assert name_builds == []  # the name index was carried to each new snapshot, never rebuilt
    page = fresh_client.get("/v1/changes", params={"since": 0, "limit": 3}).json()
    assert len(page["items"]) == 3
    assert len(items) == 3
    latest = fresh_client.get("/v1/changes", params={"since": snapshot(fresh_client).revision - 2})
    assert [item["slug"] for item in latest.json()["items"]] == ["cat-stretch", "catapult-stretch"]


def test_an_edit_closing_a_progression_cycle_through_other_rows_is_refused(
    fresh_client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    """abdominal-contraction -> back-flattening -> active-hamstring-stretch is stored; a new
    draft links on to abdominal-contraction after the editor's link graph was loaded, and the
    edit that would close the ring through it is refused."""
    editor = keys["editor"]
    assert patch(fresh_client, "cat-stretch", {"name": "Cat stretch, slow"}, editor).is_success
    bridge = new_exercise(fresh_client, "bridge-step", status="draft")
    bridge["progressions"] = {"easier": [], "harder": ["abdominal-contraction"]}
    assert fresh_client.post("/v1/exercises", json=bridge, headers=editor).status_code == 201

    closing = {"progressions": {"harder": ["bridge-step"]}}
    response = patch(fresh_client, "active-hamstring-stretch", closing, editor)

    assert response.status_code == 422, response.text
    assert any("cycle" in error["message"] for error in response.json()["errors"])
    unknown = {"progressions": {"harder": ["no-such-exercise"]}}
    response = patch(fresh_client, "active-hamstring-stretch", unknown, editor)
    assert response.status_code == 422
    assert "unknown exercise" in response.json()["errors"][0]["message"]


def test_a_rare_q_reads_only_the_indexed_candidates_and_follows_edits(
    fresh_client: TestClient, keys: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    deadline = time.monotonic() + 30
    while not snapshot(fresh_client).text_index.complete and time.monotonic() < deadline:
        time.sleep(0.05)
    assert patch(fresh_client, "cat-stretch", {"name": "Cat stretch, quokka"}, keys["editor"])
    read: list[Any] = []
    monkeypatch.setattr(
        catalogue_module.CatalogueEntry,
        "matches",
        counting(read, catalogue_module.CatalogueEntry.matches),
    )

    found = fresh_client.get("/v1/exercises", params={"q": "QUOKKA"}).json()["items"]

    assert [item["slug"] for item in found] == ["cat-stretch"]
    assert len(read) == 1  # the rare word's one candidate, not every text
    common = fresh_client.get("/v1/exercises", params={"q": "stretch", "limit": 3}).json()
    assert len(common["items"]) == 3


def grow_catalogue(url: str, groups: int) -> None:
    """`groups` copies of the seeded exercises, each renamed with its group's suffix and linked
    only inside its group (so every progression component keeps the seed's size), written the
    way the editors' writes write them."""
    engine = build_engine(url)
    with Session(engine) as session, session.begin():
        seeded = exercise_documents(session)
        revision = bump_revision(session)
        for group in range(1, groups + 1):
            suffix = f"-g{group}"
            for slug, document in seeded:
                links = document["progressions"]
                copy = {
                    **document,
                    "slug": slug + suffix,
                    "name": f"{document['name']} {group}",
                    "progressions": {
                        direction: [target + suffix for target in links[direction]]
                        for direction in ("easier", "harder")
                    },
                    "variants": [variant + suffix for variant in document["variants"]],
                }
                insert_exercise(session, Exercise.model_validate(copy), revision)
    engine.dispose()


class EditStatements:
    """The SQL statements one call of a Content write runs, in its own thread (the poller's
    refreshes, in other threads, are not counted)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.statements: list[str] = []
        self._counting = threading.local()
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *arguments: Any) -> None:
        if getattr(self._counting, "on", False):
            self.statements.append(arguments[2])

    def around(self, write: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*arguments: Any, **keywords: Any) -> Any:
            self._counting.on = True
            try:
                return write(*arguments, **keywords)
            finally:
                self._counting.on = False

        return counted


@pytest.mark.parametrize("groups", [0, 20])
def test_an_edit_runs_the_same_few_statements_whatever_the_catalogue_size(
    fresh_database_url: str,
    issue_key: Callable[..., dict[str, str]],
    seed_exercise_count: int,
    monkeypatch: pytest.MonkeyPatch,
    groups: int,
) -> None:
    """The first edit of a process and the next ones (of exercises with progression links): the
    row and the sources read once, the revision, the row, its version, the audit entry written,
    the changed component and its links read, the snapshot refreshed from the changed row;
    nothing per exercise."""
    grow_catalogue(fresh_database_url, groups)
    editor = issue_key(fresh_database_url, "editor-key", Role.editor)
    with TestClient(create_app(Settings(database_url=fresh_database_url))) as client:
        assert len(snapshot(client)) == seed_exercise_count * (groups + 1)
        engine = client.app.state.runtime.catalogue_store._engine  # type: ignore[attr-defined]
        counted = EditStatements(engine)
        monkeypatch.setattr(Content, "patch", counted.around(Content.patch))
        per_edit = []
        for number, slug in enumerate(["heel-raises", "heel-raises", "ankle-pumps"]):
            counted.statements.clear()
            response = patch(client, slug, {"name": f"Renamed {number}"}, editor)
            assert response.status_code == 200, response.text
            per_edit.append(len(counted.statements))
        counted.statements.clear()
        relinked = {"progressions": {"harder": ["wall-squat", "heel-slides"]}}
        response = patch(client, "heel-raises", relinked, editor)
        assert response.status_code == 200, response.text
        per_edit.append(len(counted.statements))
        heel_raises = snapshot(client).get("heel-raises")
        assert heel_raises is not None
        assert heel_raises.exercise.progressions.harder == ["wall-squat", "heel-slides"]

    # a new link set: its old links deleted and the new ones inserted, two statements more
    assert per_edit == [EDIT_STATEMENTS] * 3 + [EDIT_STATEMENTS + 2]


EDIT_STATEMENTS = 11
"""Read the row and the sources; bump the revision; read the changed component (and which
linked slugs exist), then its links; update the row, add its version and the audit entry; the
refresh after the commit: the revision, the sources, the changed rows."""


def test_a_download_after_an_edit_makes_again_only_the_edited_run(
    fresh_database_url: str,
    issue_key: Callable[..., dict[str, str]],
    seed_exercise_count: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """/v1/catalogue keeps each run of entries compressed; after an edit the next download
    serialises the edited exercise's run only, and is the same document a fresh one would be."""
    grow_catalogue(fresh_database_url, groups=20)
    editor = issue_key(fresh_database_url, "editor-key", Role.editor)
    made: list[Any] = []
    monkeypatch.setattr(
        catalogue_module.CatalogueEntry,
        "detail_json_passing",
        counting(made, catalogue_module.CatalogueEntry.detail_json_passing),
    )
    with TestClient(create_app(Settings(database_url=fresh_database_url))) as client:
        published = len(snapshot(client).entries)
        assert published > sync.RUN_MOST
        first = client.get("/v1/catalogue", headers={"Accept-Encoding": "gzip"})
        assert first.headers["content-encoding"] == "gzip"
        assert len(first.json()["items"]) == published
        assert len(made) == published
        made.clear()

        assert patch(client, "cat-stretch-g7", {"name": "Cat stretch, seventh"}, editor).is_success
        again = client.get("/v1/catalogue", headers={"Accept-Encoding": "gzip"})
        plain = client.get("/v1/catalogue", headers={"Accept-Encoding": "identity"})

    assert 1 <= len(made) <= sync.RUN_MOST
    assert {entry.slug for (entry,) in made} >= {"cat-stretch-g7"}
    assert "content-encoding" not in plain.headers
    assert again.json() == plain.json()
    items = again.json()["items"]
    assert [item["slug"] for item in items] == sorted(item["slug"] for item in items)
    renamed = [item["name"] for item in items if item["slug"] == "cat-stretch-g7"]
    assert renamed == ["Cat stretch, seventh"]
    assert [item for item in items if item["slug"] != "cat-stretch-g7"] == [
        item for item in first.json()["items"] if item["slug"] != "cat-stretch-g7"
    ]


def test_the_download_and_the_changes_feed_are_made_off_the_event_loop(
    fresh_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What passes over the catalogue (a run of the download, a page of the feed) runs in a
    worker thread: the event loop keeps answering meanwhile."""
    on_loop: list[bool] = []

    def running_loop() -> bool:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        return True

    def watched(method: Callable[..., Any]) -> Callable[..., Any]:
        def run(*arguments: Any, **keywords: Any) -> Any:
            on_loop.append(running_loop())
            return method(*arguments, **keywords)

        return run

    monkeypatch.setattr(sync.DownloadPieces, "_piece", watched(sync.DownloadPieces._piece))
    monkeypatch.setattr(sync.ChangeFeed, "page", watched(sync.ChangeFeed.page))

    assert fresh_client.get("/v1/catalogue").is_success
    assert fresh_client.get("/v1/changes", params={"since": 0}).is_success

    assert on_loop  # the download's runs and the feed's page were made, none on the loop
    assert not any(on_loop)
