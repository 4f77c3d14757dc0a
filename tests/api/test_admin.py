"""Content administration through HTTP: keys, If-Match, validation, drafts, import/export, audit."""

import copy
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import image_files
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.security import Role
from app.core.settings import Settings
from app.db.key_queries import create_key, revoke_key
from app.db.migrations import upgrade
from app.db.session import build_engine
from app.main import create_app

PROBLEM = "application/problem+json"
RFC3339_Z = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$"
PROJECT = Path(__file__).resolve().parents[2]


def make_key(url: str, name: str, role: Role) -> str:
    engine = build_engine(url)
    with Session(engine) as session, session.begin():
        key = create_key(session, name, role)
    engine.dispose()
    return key


@pytest.fixture
def keys(fresh_database_url: str) -> dict[str, dict[str, str]]:
    return {
        role: {"Authorization": f"Bearer {make_key(fresh_database_url, f'{role}-key', Role(role))}"}
        for role in ("editor", "admin")
    }


def etag(client: TestClient, slug: str, headers: dict[str, str]) -> str:
    return client.get(f"/v1/admin/exercises/{slug}", headers=headers).headers["etag"]


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    return body


def new_exercise(client: TestClient, slug: str, **changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/v1/exercises/heel-raises").json()
    for field in ("version", "citations", "illustrations"):
        document.pop(field)
    document.update(
        slug=slug,
        name=f"Exercise {slug}",
        citations=[{"source": "aaos-back-pain-exercises"}],
        progressions={"easier": [], "harder": []},
        variants=[],
        **changes,
    )
    return document


def assert_versions_kept(client: TestClient, slug: str) -> None:
    """Created as a draft (1), published (2), retired (3): the draft was never given to anyone,
    so only 2 and 3 are readable, and 2 is the record as it was published."""
    versions = client.get(f"/v1/exercises/{slug}/versions")
    assert versions.status_code == 200, versions.text
    items = versions.json()["items"]
    assert [(item["version"], item["status"]) for item in items] == [
        (2, "published"),
        (3, "retired"),
    ]
    assert items[0]["url"] == f"/v1/exercises/{slug}/versions/2"
    assert items[0]["recorded_at"].endswith("Z")
    published = client.get(items[0]["url"])
    assert published.headers["etag"] == '"2"'
    assert (published.json()["version"], published.json()["status"]) == (2, "published")
    problem(client.get(f"/v1/exercises/{slug}/versions/1"), 404)
    problem(client.get(f"/v1/exercises/{slug}/versions/4"), 404)
    problem(client.get("/v1/exercises/no-such-exercise/versions"), 404)


class TestKeys:
    def test_writes_need_a_key(self, fresh_client: TestClient) -> None:
        response = fresh_client.patch("/v1/exercises/cat-stretch", json={"name": "x"})
        assert problem(response, 401)["title"] == "Unauthenticated"
        assert response.headers["www-authenticate"].startswith("Bearer")

    @pytest.mark.parametrize("header", ["Bearer nope", "Bearer ", "Basic abc", "bck_unknown"])
    def test_unknown_keys_are_401(self, fresh_client: TestClient, header: str) -> None:
        response = fresh_client.patch(
            "/v1/exercises/cat-stretch", json={"name": "x"}, headers={"Authorization": header}
        )
        problem(response, 401)

    def test_revoked_key_is_401(self, fresh_client: TestClient, fresh_database_url: str) -> None:
        key = make_key(fresh_database_url, "leaver", Role.editor)
        headers = {"Authorization": f"Bearer {key}"}
        assert fresh_client.get("/v1/admin/exercises", headers=headers).status_code == 200
        engine = build_engine(fresh_database_url)
        with Session(engine) as session, session.begin():
            assert revoke_key(session, "leaver")
        engine.dispose()
        problem(fresh_client.get("/v1/admin/exercises", headers=headers), 401)

    def test_editor_cannot_do_admin_things(
        self, fresh_client: TestClient, keys: dict[str, dict[str, str]]
    ) -> None:
        for path in ["/v1/admin/export", "/v1/admin/audit"]:
            assert (
                "admin role"
                in problem(fresh_client.get(path, headers=keys["editor"]), 403)["detail"]
            )
        assert fresh_client.get("/v1/admin/audit", headers=keys["admin"]).status_code == 200

    def test_reads_stay_public(self, fresh_client: TestClient) -> None:
        assert fresh_client.get("/v1/exercises").status_code == 200

    def test_cli_prints_the_key_once_as_the_last_word(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'keys.db'}"
        upgrade(url)
        environment = {"DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
        run = [sys.executable, "-m", "app", "keys"]
        created = subprocess.run(
            [*run, "create", "--name", "carol", "--role", "admin"],
            cwd=PROJECT,
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        )
        key = created.stdout.split()[-1]
        assert key.startswith("bck_")
        listed = subprocess.run(
            [*run, "list"], cwd=PROJECT, env=environment, capture_output=True, text=True, check=True
        )
        assert "carol" in listed.stdout
        assert key not in listed.stdout
        with TestClient(create_app(Settings(database_url=url))) as client:
            headers = {"Authorization": f"Bearer {key}"}
            assert client.get("/v1/admin/audit", headers=headers).status_code == 200
            subprocess.run(
                [*run, "revoke", "carol"],
                cwd=PROJECT,
                env=environment,
                check=True,
                capture_output=True,
            )
            assert client.get("/v1/admin/audit", headers=headers).status_code == 401


class TestEditing:
    def test_if_match_is_required_and_checked(
        self, fresh_client: TestClient, keys: dict[str, dict[str, str]]
    ) -> None:
        editor = keys["editor"]
        problem(
            fresh_client.patch("/v1/exercises/cat-stretch", json={"name": "x"}, headers=editor), 428
        )
        problem(
            fresh_client.patch(
                "/v1/exercises/cat-stretch",
                json={"name": "x"},
                headers={**editor, "If-Match": '"9"'},
            ),
            412,
        )
        public_etag = fresh_client.get("/v1/exercises/cat-stretch").headers["etag"]
        assert public_etag == etag(fresh_client, "cat-stretch", editor) == '"1"'
        response = fresh_client.patch(
            "/v1/exercises/cat-stretch",
            json={"name": "Cat stretch, arched"},
            headers={**editor, "If-Match": public_etag},
        )
        assert response.status_code == 200
        assert response.headers["etag"] == '"2"'
        assert fresh_client.get("/v1/exercises/cat-stretch").json()["name"] == "Cat stretch, arched"

    def test_a_write_that_changes_nothing_is_a_no_op(
        self, fresh_client: TestClient, keys: dict[str, dict[str, str]]
    ) -> None:
        """The same version and ETag, no revision (nothing in the changes feed), no audit entry,
        whether as a merge patch repeating a value or as the document PUT back unchanged."""
        editor = keys["editor"]
        revision = fresh_client.get("/v1/catalogue").json()["revision"]
        audit = fresh_client.get("/v1/admin/audit", headers=keys["admin"]).json()["items"]
        current = fresh_client.get("/v1/admin/exercises/cat-stretch", headers=editor)
        tag = current.headers["etag"]
        unchanged = [
            fresh_client.patch(
                "/v1/exercises/cat-stretch",
                content=f'{{"name": "{current.json()["name"]}"}}',
                headers={**editor, "If-Match": tag, "Content-Type": "application/merge-patch+json"},
            ),
            fresh_client.patch(
                "/v1/exercises/cat-stretch", json={}, headers={**editor, "If-Match": tag}
            ),
            fresh_client.put(
                "/v1/exercises/cat-stretch",
                json=current.json(),
                headers={**editor, "If-Match": tag},
            ),
        ]
        for response in unchanged:
            assert response.status_code == 200, response.text
            assert response.headers["etag"] == tag
            assert response.json() == current.json()
        assert fresh_client.get(f"/v1/changes?since={revision}").json()["items"] == []
        assert fresh_client.get("/v1/catalogue").json()["revision"] == revision
        assert fresh_client.get("/v1/admin/audit", headers=keys["admin"]).json()["items"] == audit
        problem(
            fresh_client.patch(
                "/v1/exercises/cat-stretch", json={}, headers={**editor, "If-Match": '"9"'}
            ),
            412,
        )

    def test_two_editors_from_one_version_exactly_one_wins(
        self, fresh_client: TestClient, keys: dict[str, dict[str, str]]
    ) -> None:
        version = etag(fresh_client, "heel-slides", keys["editor"])
        statuses: list[int] = []
        barrier = threading.Barrier(4)

        def edit(number: int) -> None:
            barrier.wait()
            response = fresh_client.patch(
                "/v1/exercises/heel-slides",
                json={"summary": f"Edited by editor {number}."},
                headers={**keys["editor"], "If-Match": version},
            )
            statuses.append(response.status_code)

        threads = [threading.Thread(target=edit, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [200, 412, 412, 412]
        assert etag(fresh_client, "heel-slides", keys["editor"]) == '"2"'

    @pytest.mark.parametrize(
        ("patch", "field"),
        [
            (
                {"contraindications": [{"flag": "sideways_sensitive", "reason": "x"}]},
                "contraindications.0.flag",
            ),
            ({"level": "superhuman"}, "level"),
            ({"category": "yoga"}, "category"),
            ({"spinal_motion": "twist"}, "spinal_motion"),
            ({"target_areas": ["elbows"]}, "target_areas.0"),
            ({"equipment": ["trampoline"]}, "equipment.0"),
            ({"contraindications": []}, "(entry)"),
            ({"progressions": {"harder": ["no-such-exercise"]}}, "progressions.harder.0"),
            ({"progressions": {"easier": ["double-knee-to-chest"]}}, "progressions"),
        ],
    )
    def test_invalid_edits_name_the_field_and_change_nothing(
        self,
        fresh_client: TestClient,
        keys: dict[str, dict[str, str]],
        patch: dict[str, Any],
        field: str,
    ) -> None:
        before = fresh_client.get(
            "/v1/admin/exercises/single-knee-to-chest", headers=keys["editor"]
        ).json()
        response = fresh_client.patch(
            "/v1/exercises/single-knee-to-chest",
            json=patch,
            headers={**keys["editor"], "If-Match": '"1"'},
        )
        body = problem(response, 422)
        assert field in [error["field"] for error in body["errors"]], body
        after = fresh_client.get(
            "/v1/admin/exercises/single-knee-to-chest", headers=keys["editor"]
        ).json()
        assert after == before

    def test_create_draft_publish_and_retire(
        self, fresh_client: TestClient, keys: dict[str, dict[str, str]]
    ) -> None:
        editor = keys["editor"]
        draft = new_exercise(fresh_client, "slow-heel-raises", status="draft")
        created = fresh_client.post("/v1/exercises", json=draft, headers=editor)
        assert created.status_code == 201, created.text
        assert created.headers["location"] == "/v1/admin/exercises/slow-heel-raises"
        assert fresh_client.get("/v1/exercises/slow-heel-raises").status_code == 404
        drafts = fresh_client.get(
            "/v1/admin/exercises", params={"status": "draft"}, headers=editor
        ).json()
        assert [item["slug"] for item in drafts["items"]] == ["slow-heel-raises"]
        problem(fresh_client.post("/v1/exercises", json=draft, headers=editor), 409)

        published = fresh_client.patch(
            "/v1/exercises/slow-heel-raises",
            json={"status": "published"},
            headers={**editor, "If-Match": '"1"'},
        )
        assert published.status_code == 200
        assert fresh_client.get("/v1/exercises/slow-heel-raises").status_code == 200

        routine = fresh_client.post(
            "/v1/routines", json={"sensitivity": "none", "minutes": 90}
        ).json()
        routine.pop("delete_token")
        retired = fresh_client.delete(
            "/v1/exercises/slow-heel-raises", headers={**editor, "If-Match": '"2"'}
        )
        assert retired.json()["status"] == "retired"
        assert fresh_client.get("/v1/exercises/slow-heel-raises").status_code == 404
        listed = fresh_client.get("/v1/exercises", params={"q": "slow-heel", "limit": 100}).json()[
            "items"
        ]
        assert listed == []
        assert fresh_client.get(f"/v1/routines/{routine['id']}").json() == routine
        assert_versions_kept(fresh_client, "slow-heel-raises")

    def test_put_replaces_the_whole_record(
        self, fresh_client: TestClient, keys: dict[str, dict[str, str]]
    ) -> None:
        document = fresh_client.get(
            "/v1/admin/exercises/ankle-pumps", headers=keys["editor"]
        ).json()
        document.pop("version")
        document["citations"] = [
            {"source": c["source"], "note": c["note"]} for c in document["citations"]
        ]
        document["steps"] = ["Lie on your back.", "Point and flex both feet, slowly."]
        response = fresh_client.put(
            "/v1/exercises/ankle-pumps",
            json=document,
            headers={**keys["editor"], "If-Match": '"1"'},
        )
        assert response.status_code == 200, response.text
        assert fresh_client.get("/v1/exercises/ankle-pumps").json()["steps"] == document["steps"]
        mismatched = {**document, "slug": "heel-slides"}
        problem(
            fresh_client.put(
                "/v1/exercises/ankle-pumps",
                json=mismatched,
                headers={**keys["editor"], "If-Match": '"2"'},
            ),
            422,
        )

    @pytest.mark.parametrize("read_from", ["/v1/admin/exercises/", "/v1/exercises/"])
    def test_get_edit_put_back_with_if_match(
        self, fresh_client: TestClient, keys: dict[str, dict[str, str]], read_from: str
    ) -> None:
        """The document GET returns, edited, goes back as it is: its read-only fields are
        ignored while they are what GET showed."""
        read = fresh_client.get(f"{read_from}cat-stretch", headers=keys["editor"])
        document = read.json()
        document["summary"] = "Round trip: as GET gave it, one field changed."
        response = fresh_client.put(
            "/v1/exercises/cat-stretch",
            json=document,
            headers={**keys["editor"], "If-Match": read.headers["etag"]},
        )
        assert response.status_code == 200, response.text
        saved = response.json()
        assert saved["summary"] == document["summary"]
        assert saved["version"] == document["version"] + 1
        assert response.headers["etag"] == f'"{saved["version"]}"'
        # The illustrations' URLs carry the version, so they change with it.
        changing = ("summary", "version", "illustrations")
        assert {k: v for k, v in saved.items() if k not in changing} == {
            k: v for k, v in document.items() if k not in changing
        }

    @pytest.mark.parametrize(
        ("change", "pointer"),
        [
            ({"version": 7}, "#/version"),
            ({"citations": [{"title": "Another title"}]}, "#/citations/0/title"),
            ({"citations": [{"seed_file": "elsewhere.txt"}]}, "#/citations/0/seed_file"),
        ],
    )
    def test_a_changed_read_only_field_is_a_422_naming_it(
        self,
        fresh_client: TestClient,
        keys: dict[str, dict[str, str]],
        change: dict[str, Any],
        pointer: str,
    ) -> None:
        read = fresh_client.get("/v1/admin/exercises/cat-stretch", headers=keys["editor"])
        document = read.json()
        document["summary"] = "Not written: a read-only field changed."
        for name, value in change.items():
            if name == "citations":
                document["citations"][0].update(value[0])
            else:
                document[name] = value
        response = fresh_client.put(
            "/v1/exercises/cat-stretch",
            json=document,
            headers={**keys["editor"], "If-Match": read.headers["etag"]},
        )
        errors = problem(response, 422)["errors"]
        assert [error["pointer"] for error in errors] == [pointer]
        assert "read-only" in errors[0]["message"]
        after = fresh_client.get("/v1/admin/exercises/cat-stretch", headers=keys["editor"])
        assert after.json() == read.json(), "nothing was written"

    def test_a_stale_if_match_is_412_before_the_read_only_fields_are_judged(
        self, fresh_client: TestClient, keys: dict[str, dict[str, str]]
    ) -> None:
        read = fresh_client.get("/v1/admin/exercises/cat-stretch", headers=keys["editor"])
        document = {**read.json(), "version": 99}
        response = fresh_client.put(
            "/v1/exercises/cat-stretch",
            json=document,
            headers={**keys["editor"], "If-Match": '"5"'},
        )
        problem(response, 412)


class TestBulk:
    def test_export_then_import_into_an_empty_database_reproduces_it(
        self,
        fresh_client: TestClient,
        keys: dict[str, dict[str, str]],
        empty_database_url: str,
        seed_exercise_count: int,
    ) -> None:
        exported = fresh_client.get("/v1/admin/export", headers=keys["admin"]).json()
        assert len(exported["exercises"]) == seed_exercise_count
        upgrade(empty_database_url)
        admin = {"Authorization": f"Bearer {make_key(empty_database_url, 'importer', Role.admin)}"}
        with TestClient(create_app(Settings(database_url=empty_database_url))) as empty:
            report = empty.post("/v1/admin/import", json=exported, headers=admin).json()
            assert len(report["created"]) == seed_exercise_count
            assert empty.get("/v1/admin/export", headers=admin).json() == exported
            again = empty.post("/v1/admin/import", json=exported, headers=admin).json()
            assert len(again["unchanged"]) == seed_exercise_count

    def test_an_import_keeps_the_images_stored_and_refuses_others(
        self, fresh_client: TestClient, keys: dict[str, dict[str, str]]
    ) -> None:
        """A bundle carries no image files: an exercise's `media` as export wrote it, or left
        out, keeps the stored images; changed, or on an exercise the import creates, it is a
        422 naming the entry's `media`, and nothing is written."""
        attached = image_files.upload(
            fresh_client,
            "heel-raises",
            keys["editor"],
            image_files.png((120, 80)),
            license="CC0-1.0",
        )
        assert attached.status_code == 201, attached.text
        bundle = fresh_client.get("/v1/admin/export", headers=keys["admin"]).json()
        index = [e["slug"] for e in bundle["exercises"]].index("heel-raises")
        stored = bundle["exercises"][index]["media"]
        assert [item["id"] for item in stored] == [attached.json()["id"]]

        def send(sent: dict[str, Any]) -> Any:
            return fresh_client.post("/v1/admin/import", json=sent, headers=keys["admin"])

        assert "heel-raises" in send(bundle).json()["unchanged"]
        left_out = copy.deepcopy(bundle)
        del left_out["exercises"][index]["media"]
        assert "heel-raises" in send(left_out).json()["unchanged"]
        changed = copy.deepcopy(bundle)
        changed["exercises"][index]["media"][0]["alt"] = "Other words."
        body = problem(send(changed), 422)
        assert [error["field"] for error in body["errors"]] == [f"exercises.{index}.media"]
        created = copy.deepcopy(bundle)
        created["exercises"].append(new_exercise(fresh_client, "tiptoe-walk", media=stored))
        body = problem(send(created), 422)
        end = len(created["exercises"]) - 1
        assert [error["field"] for error in body["errors"]] == [f"exercises.{end}.media"]
        assert fresh_client.get("/v1/exercises/heel-raises/media").json()["items"] == [
            attached.json()
        ]
        assert fresh_client.get("/v1/exercises/tiptoe-walk").status_code == 404

    def test_import_accepts_yaml_and_dry_run_writes_nothing(
        self, fresh_client: TestClient, keys: dict[str, dict[str, str]]
    ) -> None:
        import yaml

        bundle = fresh_client.get("/v1/admin/export", headers=keys["admin"]).json()
        bundle["exercises"][0]["name"] = "Renamed by import"
        slug = bundle["exercises"][0]["slug"]
        dry = fresh_client.post(
            "/v1/admin/import",
            params={"dry_run": "true"},
            content=yaml.safe_dump(bundle),
            headers={**keys["admin"], "Content-Type": "application/yaml"},
        )
        assert dry.json() == {
            "dry_run": True,
            "created": [],
            "updated": [slug],
            "unchanged": [b["slug"] for b in bundle["exercises"][1:]],
        }
        assert fresh_client.get(f"/v1/exercises/{slug}").json()["name"] != "Renamed by import"
        applied = fresh_client.post("/v1/admin/import", json=bundle, headers=keys["admin"]).json()
        assert applied["updated"] == [slug]
        assert fresh_client.get(f"/v1/exercises/{slug}").json()["name"] == "Renamed by import"

    def test_invalid_import_reports_every_error_and_applies_none(
        self, fresh_client: TestClient, keys: dict[str, dict[str, str]]
    ) -> None:
        bundle = fresh_client.get("/v1/admin/export", headers=keys["admin"]).json()
        good = copy.deepcopy(bundle)
        bundle["exercises"][0]["name"] = "Would be renamed"
        bundle["exercises"][3]["level"] = "superhuman"
        bundle["exercises"][5]["progressions"] = {"harder": ["nowhere"]}
        body = problem(
            fresh_client.post("/v1/admin/import", json=bundle, headers=keys["admin"]), 422
        )
        fields = {error["field"] for error in body["errors"]}
        assert {"exercises.3.level", "exercises.5.progressions.harder.0"} <= fields
        messages = " ".join(error["message"] for error in body["errors"])
        assert bundle["exercises"][3]["slug"] in messages
        assert bundle["exercises"][5]["slug"] in messages
        assert fresh_client.get("/v1/admin/export", headers=keys["admin"]).json() == good

    def test_import_errors_point_into_the_bundle(
        self, fresh_client: TestClient, keys: dict[str, dict[str, str]]
    ) -> None:
        import yaml

        bundle = fresh_client.get("/v1/admin/export", headers=keys["admin"]).json()
        bundle["exercises"][2]["level"] = "superhuman"
        bundle["exercises"][4]["citations"] = [{"source": "no-such-source"}]
        bundle["exercises"][6]["progressions"] = {"harder": ["nowhere"]}
        bundle["exercises"][7] = "not an exercise"
        expected = {
            ("exercises.2.level", "#/exercises/2/level"),
            ("exercises.4.citations.0.source", "#/exercises/4/citations/0/source"),
            ("exercises.6.progressions.harder.0", "#/exercises/6/progressions/harder/0"),
            ("exercises.7", "#/exercises/7"),
        }
        as_json = problem(
            fresh_client.post("/v1/admin/import", json=bundle, headers=keys["admin"]), 422
        )
        as_yaml = problem(
            fresh_client.post(
                "/v1/admin/import",
                params={"dry_run": "true"},
                content=yaml.safe_dump(bundle),
                headers={**keys["admin"], "Content-Type": "application/yaml"},
            ),
            422,
        )
        for body in (as_json, as_yaml):
            assert {(e["field"], e["pointer"]) for e in body["errors"]} == expected, body
        [level] = [e for e in as_json["errors"] if e["field"] == "exercises.2.level"]
        assert level["message"].startswith(bundle["exercises"][2]["slug"] + ": ")

    def test_an_import_closing_a_progression_cycle_is_refused(
        self, fresh_client: TestClient, keys: dict[str, dict[str, str]]
    ) -> None:
        """The cycle runs through an exercise the bundle does not hold; the entry that closes it
        is the one named."""
        bundle = fresh_client.get("/v1/admin/export", headers=keys["admin"]).json()
        chains = [e for e in bundle["exercises"] if e["progressions"].get("harder")]
        for index, exercise in enumerate(chains[:2]):
            harder = exercise["progressions"]["harder"][0]
            looped = copy.deepcopy(exercise)
            looped["progressions"]["easier"] = [*looped["progressions"].get("easier", []), harder]
            body = problem(
                fresh_client.post(
                    "/v1/admin/import",
                    json={"sources": [], "exercises": [looped]},
                    headers=keys["admin"],
                ),
                422,
            )
            [error] = body["errors"]
            assert error["pointer"] == "#/exercises/0/progressions", (index, body)
            assert "cycle" in error["message"]
        assert fresh_client.get("/v1/admin/export", headers=keys["admin"]).json() == bundle

    def test_import_pointers_escape_tilde_and_slash(
        self, fresh_client: TestClient, keys: dict[str, dict[str, str]]
    ) -> None:
        bundle = fresh_client.get("/v1/admin/export", headers=keys["admin"]).json()
        bundle["exercises"][1]["a/b~c"] = True
        body = problem(
            fresh_client.post("/v1/admin/import", json=bundle, headers=keys["admin"]), 422
        )
        [error] = body["errors"]
        assert error["field"] == "exercises.1.a/b~c"
        assert error["pointer"] == "#/exercises/1/a~1b~0c"

    def test_import_errors_of_the_bundle_itself_point_at_it(
        self, fresh_client: TestClient, keys: dict[str, dict[str, str]]
    ) -> None:
        bundle = fresh_client.get("/v1/admin/export", headers=keys["admin"]).json()
        admin = keys["admin"]
        not_lists = problem(
            fresh_client.post("/v1/admin/import", json={"sources": {"id": "x"}}, headers=admin), 422
        )
        assert [(e["field"], e["pointer"]) for e in not_lists["errors"]] == [
            ("sources", "#/sources")
        ]
        not_a_bundle = problem(fresh_client.post("/v1/admin/import", json=[], headers=admin), 422)
        assert [e["pointer"] for e in not_a_bundle["errors"]] == ["#"]
        twice = {
            "sources": [*bundle["sources"], bundle["sources"][0]],
            "exercises": [*bundle["exercises"][:3], bundle["exercises"][0]],
        }
        repeated = problem(fresh_client.post("/v1/admin/import", json=twice, headers=admin), 422)
        assert {(e["field"], e["pointer"]) for e in repeated["errors"]} == {
            (f"sources.{len(bundle['sources'])}.id", f"#/sources/{len(bundle['sources'])}/id"),
            ("exercises.3.slug", "#/exercises/3/slug"),
        }

    def test_oversized_and_unparseable_imports(
        self, fresh_client: TestClient, keys: dict[str, dict[str, str]]
    ) -> None:
        admin = keys["admin"]
        big = b'{"sources": [], "exercises": [], "pad": "' + b"x" * (5 * 1024 * 1024) + b'"}'
        problem(
            fresh_client.post(
                "/v1/admin/import",
                content=big,
                headers={**admin, "Content-Type": "application/json"},
            ),
            413,
        )
        problem(
            fresh_client.post(
                "/v1/admin/import",
                content=b"{nope",
                headers={**admin, "Content-Type": "application/json"},
            ),
            400,
        )
        problem(
            fresh_client.post(
                "/v1/admin/import", content=b"a,b", headers={**admin, "Content-Type": "text/csv"}
            ),
            415,
        )


class TestAudit:
    def test_every_change_is_recorded_with_who_and_what(
        self, fresh_client: TestClient, keys: dict[str, dict[str, str]]
    ) -> None:
        fresh_client.patch(
            "/v1/exercises/cat-stretch",
            json={"name": "Audited cat"},
            headers={**keys["editor"], "If-Match": '"1"'},
        )
        audit = fresh_client.get(
            "/v1/admin/audit", params={"exercise": "cat-stretch"}, headers=keys["admin"]
        ).json()
        latest = audit["items"][0]
        assert latest["actor"] == "editor-key"
        assert re.match(RFC3339_Z, latest["at"]), "one timestamp format on every store"
        assert latest["action"] == "update"
        assert latest["before"]["name"] != "Audited cat"
        assert latest["after"]["name"] == "Audited cat"
        assert "bck_" not in str(audit)

    def test_audit_pages_and_filters_by_time(
        self, fresh_client: TestClient, keys: dict[str, dict[str, str]], seed_exercise_count: int
    ) -> None:
        pages, cursor, seen = 0, None, []
        while True:
            params: dict[str, Any] = {"limit": 10, **({"cursor": cursor} if cursor else {})}
            body = fresh_client.get("/v1/admin/audit", params=params, headers=keys["admin"]).json()
            seen += [item["id"] for item in body["items"]]
            pages += 1
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) == seed_exercise_count
        assert pages == -(-seed_exercise_count // 10)
        assert seen == sorted(seen, reverse=True)
        later = fresh_client.get(
            "/v1/admin/audit", params={"since": "2999-01-01T00:00:00Z"}, headers=keys["admin"]
        )
        assert later.json()["items"] == []

    def test_admin_cursors_are_signed_and_bound_to_their_filters(
        self, fresh_client: TestClient, keys: dict[str, dict[str, str]]
    ) -> None:
        admin = keys["admin"]
        audit = fresh_client.get("/v1/admin/audit", params={"limit": 2}, headers=admin).json()
        listed = fresh_client.get(
            "/v1/admin/exercises", params={"limit": 2, "status": "published"}, headers=admin
        ).json()
        for path, cursor, other in [
            ("/v1/admin/audit", audit["next_cursor"], {"exercise": "cat-stretch"}),
            ("/v1/admin/audit", audit["next_cursor"], {"since": "2020-01-01T00:00:00Z"}),
            ("/v1/admin/exercises", listed["next_cursor"], {"status": "draft"}),
            ("/v1/admin/exercises", listed["next_cursor"], {"q": "cat"}),
        ]:
            response = fresh_client.get(path, params={"cursor": cursor, **other}, headers=admin)
            assert problem(response, 400)["errors"][0]["field"] == "cursor"
        for path in ("/v1/admin/audit", "/v1/admin/exercises"):
            forged = fresh_client.get(path, params={"cursor": "eyJhZnRlciI6IjUifQ"}, headers=admin)
            assert problem(forged, 400)["errors"][0]["field"] == "cursor"
        following = fresh_client.get(
            "/v1/admin/exercises",
            params={"limit": 2, "status": "published", "cursor": listed["next_cursor"]},
            headers=admin,
        )
        assert following.status_code == 200, following.text
        assert following.json()["items"][0]["slug"] > listed["items"][-1]["slug"]


class TestHardening:
    def test_cors_lets_any_origin_read_and_none_write(self, fresh_client: TestClient) -> None:
        origin = {"Origin": "https://example.org"}
        read = fresh_client.get("/v1/exercises", headers=origin)
        assert read.headers["access-control-allow-origin"] == "*"
        preflight = fresh_client.options(
            "/v1/exercises/cat-stretch",
            headers={**origin, "Access-Control-Request-Method": "PATCH"},
        )
        assert "access-control-allow-origin" not in preflight.headers

    def test_configured_write_origin_may_write(self, fresh_database_url: str) -> None:
        settings = Settings(
            database_url=fresh_database_url, cors_admin_origins=["https://admin.example.org"]
        )
        with TestClient(create_app(settings)) as client:
            preflight = client.options(
                "/v1/exercises/cat-stretch",
                headers={
                    "Origin": "https://admin.example.org",
                    "Access-Control-Request-Method": "PATCH",
                },
            )
            assert preflight.headers["access-control-allow-origin"] == "https://admin.example.org"
            assert "PATCH" in preflight.headers["access-control-allow-methods"]
