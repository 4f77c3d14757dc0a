"""The admin web UI at /admin: admin-key login, CSRF, editing under the API's rules, the audit
log, and one real headless-browser session against a real server."""

import html
import io
import json
import os
import re
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import patch

import httpx
import httpx2
import image_files
import pypdf
import pytest
import yaml
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from sqlmodel import Session

from app.api.admin_session import COOKIE, SESSION_SECONDS, AdminSessionCookie
from app.api.admin_ui import NEW_EXERCISE_TEMPLATE, STALE_MESSAGE
from app.core.security import Role, hash_key
from app.core.settings import Settings
from app.db.audit_queries import record_change
from app.db.key_queries import create_key, revoke_key
from app.db.session import build_engine
from app.main import create_app

PROJECT = Path(__file__).resolve().parents[2]
PROBLEM = "application/problem+json"
SLUG = "cat-stretch"


def make_key(url: str, name: str, role: Role) -> str:
    engine = build_engine(url)
    with Session(engine) as session, session.begin():
        key = create_key(session, name, role)
    engine.dispose()
    return key


def revoke(url: str, name: str) -> None:
    engine = build_engine(url)
    with Session(engine) as session, session.begin():
        assert revoke_key(session, name)
    engine.dispose()


@pytest.fixture
def admin_key(fresh_database_url: str) -> str:
    return make_key(fresh_database_url, "ada-admin", Role.admin)


@pytest.fixture
def editor_key(fresh_database_url: str) -> str:
    return make_key(fresh_database_url, "eddie-editor", Role.editor)


def log_in(client: TestClient, key: str) -> httpx2.Response:
    return client.post("/admin/login", data={"key": key}, follow_redirects=False)


@pytest.fixture
def admin(fresh_client: TestClient, admin_key: str) -> TestClient:
    """The fresh client, logged in to the admin UI."""
    response = log_in(fresh_client, admin_key)
    assert response.status_code == 303, response.text
    return fresh_client


def log_in_elsewhere(client: TestClient, key: str) -> str:
    """A second session of the same key (another browser): its cookie, the client's left as
    it was."""
    kept = client.cookies[COOKIE]
    client.cookies.clear()
    assert log_in(client, key).status_code == 303
    other = client.cookies[COOKIE]
    client.cookies.clear()
    client.cookies.set(COOKIE, kept, path="/admin")
    return other


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no CSRF field on the page"
    return found.group(1)


def version_of(page: str) -> str:
    found = re.search(r'name="version" value="([^"]*)"', page)
    assert found, "no version field on the page"
    return found.group(1)


def textarea_of(page: str) -> str:
    found = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.DOTALL)
    assert found, "no textarea on the page"
    return html.unescape(found.group(1))


def edit_form(client: TestClient, slug: str = SLUG) -> tuple[str, dict[str, Any]]:
    """The edit page's document (parsed) and its hidden fields."""
    page = client.get(f"/admin/exercises/{slug}")
    assert page.status_code == 200, page.text
    fields = {"csrf": csrf_of(page.text), "version": version_of(page.text)}
    return textarea_of(page.text), fields


def save(client: TestClient, document: str, fields: dict[str, Any], slug: str = SLUG) -> Any:
    return client.post(
        f"/admin/exercises/{slug}", data={**fields, "document": document}, follow_redirects=False
    )


def renamed(text: str, name: str) -> str:
    document = yaml.safe_load(text)
    document["name"] = name
    return yaml.safe_dump(document, sort_keys=False)


def public_record(client: TestClient, slug: str = SLUG) -> httpx2.Response:
    return client.get(f"/v1/exercises/{slug}")


def is_html(response: httpx2.Response) -> bool:
    return response.headers["content-type"].startswith("text/html")


def audit_count(client: TestClient, key: str, slug: str = SLUG) -> int:
    """How many changes to `slug` the audit trail holds since seeding."""
    response = client.get(
        "/v1/admin/audit", params={"exercise": slug}, headers={"Authorization": f"Bearer {key}"}
    )
    return sum(item["actor"] != "seed command" for item in response.json()["items"])


class TestLogin:
    def test_unauthenticated_pages_redirect_to_the_login_form(
        self, fresh_client: TestClient
    ) -> None:
        for path in ["/admin", f"/admin/exercises/{SLUG}", "/admin/new-exercise", "/admin/audit"]:
            response = fresh_client.get(path, follow_redirects=False)
            assert response.status_code == 303, path
            assert response.headers["location"] == "/admin/login"
        form = fresh_client.get("/admin/login")
        assert form.status_code == 200
        assert is_html(form)
        assert 'type="password"' in form.text
        assert '<label for="key">' in form.text

    def test_an_admin_key_logs_in_with_a_safe_cookie(
        self, fresh_client: TestClient, admin_key: str
    ) -> None:
        response = log_in(fresh_client, admin_key)
        assert response.status_code == 303
        assert response.headers["location"] == "/admin"
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=")
        for attribute in ["HttpOnly", "Path=/admin", "SameSite=strict", "Max-Age=28800"]:
            assert attribute.lower() in cookie.lower(), attribute
        assert "secure" not in cookie.lower()  # plain http here; https gets Secure
        assert admin_key not in cookie
        listing = fresh_client.get("/admin")
        assert listing.status_code == 200
        assert "Signed in as <strong>ada-admin</strong>" in listing.text
        assert "Cat stretch" in listing.text

    def test_the_cookie_is_secure_over_https(self, fresh_database_url: str, admin_key: str) -> None:
        app = create_app(Settings(database_url=fresh_database_url))
        with TestClient(app, base_url="https://testserver") as client:
            response = log_in(client, admin_key)
        assert response.status_code == 303
        assert "secure" in response.headers["set-cookie"].lower()

    def test_an_editor_key_is_refused(self, fresh_client: TestClient, editor_key: str) -> None:
        response = log_in(fresh_client, editor_key)
        assert response.status_code == 403
        assert is_html(response)
        assert "eddie-editor" in response.text
        assert "admin key" in response.text
        assert COOKIE not in fresh_client.cookies
        assert fresh_client.get("/admin", follow_redirects=False).status_code == 303

    @pytest.mark.parametrize("key", ["", "bck_not-a-real-key", "nonsense"])
    def test_unknown_keys_are_refused(self, fresh_client: TestClient, key: str) -> None:
        response = log_in(fresh_client, key)
        assert response.status_code == 401
        assert "unknown or revoked" in response.text
        assert COOKIE not in fresh_client.cookies

    def test_a_revoked_key_cannot_log_in_and_its_sessions_end(
        self, admin: TestClient, fresh_database_url: str, admin_key: str
    ) -> None:
        assert admin.get("/admin").status_code == 200
        revoke(fresh_database_url, "ada-admin")
        response = admin.get("/admin", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/admin/login"
        assert log_in(admin, admin_key).status_code == 401

    def test_forged_and_expired_sessions_are_refused(
        self, fresh_client: TestClient, admin_key: str
    ) -> None:
        secret = fresh_client.app.state.runtime.signing.admin_sessions  # type: ignore[attr-defined]
        cookie = AdminSessionCookie(secret)
        assert log_in(fresh_client, admin_key).status_code == 303
        valid = fresh_client.cookies[COOKIE]
        fresh_client.cookies.clear()
        contents = cookie.read(valid)
        assert contents is not None
        session_id = contents.session_id
        payload, _, signature = valid.rpartition(".")
        issued_too_long_ago = int(time.time()) - SESSION_SECONDS - 1
        with patch.object(TimestampSigner, "get_timestamp", return_value=issued_too_long_ago):
            expired = cookie.issue(hash_key(admin_key), session_id)
        other_secret = AdminSessionCookie("another-secret-another-secret-xx")
        forged = [
            expired,
            other_secret.issue(hash_key(admin_key), session_id),
            cookie.issue(hash_key("bck_someone-else"), session_id),
            cookie.issue(hash_key(admin_key), "a-session-never-started"),
            f"{payload}.{signature[:-2]}xx",
            f"{payload[:-2]}xx.{signature}",
            "garbage",
        ]
        for token in forged:
            fresh_client.cookies.set(COOKIE, token, path="/admin")
            response = fresh_client.get("/admin", follow_redirects=False)
            assert response.status_code == 303, token
            fresh_client.cookies.clear()
        fresh_client.cookies.set(COOKIE, valid, path="/admin")
        assert fresh_client.get("/admin", follow_redirects=False).status_code == 200

    def test_log_out(self, admin: TestClient) -> None:
        page = admin.get("/admin")
        refused = admin.post("/admin/logout", data={}, follow_redirects=False)
        assert refused.status_code == 403
        assert admin.get("/admin").status_code == 200
        response = admin.post(
            "/admin/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/admin/login"
        assert COOKIE not in admin.cookies
        assert admin.get("/admin", follow_redirects=False).status_code == 303

    def test_log_out_ends_the_session_for_every_copy_of_its_cookie(
        self, admin: TestClient, admin_key: str
    ) -> None:
        """The browser drops its cookie; a copy kept elsewhere (another tab's export, a stolen
        one) is refused from then on, although its signature is still good."""
        kept = admin.cookies[COOKIE]
        page = admin.get("/admin")
        other_session = log_in_elsewhere(admin, admin_key)
        admin.cookies.set(COOKIE, kept, path="/admin")
        response = admin.post(
            "/admin/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False
        )
        assert response.status_code == 303
        admin.cookies.set(COOKIE, kept, path="/admin")
        assert admin.get("/admin", follow_redirects=False).status_code == 303
        admin.cookies.set(COOKIE, other_session, path="/admin")
        assert admin.get("/admin").status_code == 200, "another session of the key goes on"

    def test_the_cookie_is_secure_when_the_public_url_is_https(
        self, fresh_database_url: str, admin_key: str
    ) -> None:
        """Behind a proxy that terminates TLS the request arrives as http: PUBLIC_BASE_URL
        says how people reach the service."""
        settings = Settings(database_url=fresh_database_url, public_base_url="https://bc.example")
        with TestClient(create_app(settings)) as client:
            response = log_in(client, admin_key)
        assert response.status_code == 303
        assert "secure" in response.headers["set-cookie"].lower()


class TestCsrf:
    def test_a_missing_or_wrong_token_is_refused_and_nothing_written(
        self, admin: TestClient, admin_key: str
    ) -> None:
        text, fields = edit_form(admin)
        document = renamed(text, "Cat stretch, forged")
        for csrf in [None, "", "0" * 64, "é"]:
            data = {"version": fields["version"], "document": document}
            if csrf is not None:
                data["csrf"] = csrf
            response = admin.post(f"/admin/exercises/{SLUG}", data=data, follow_redirects=False)
            assert response.status_code == 403, csrf
            assert is_html(response)
            assert "nothing was saved" in response.text
        created = admin.post(
            "/admin/new-exercise",
            data={"document": NEW_EXERCISE_TEMPLATE},
            follow_redirects=False,
        )
        assert created.status_code == 403
        assert public_record(admin).json()["name"] == "Cat stretch"
        assert audit_count(admin, admin_key) == 0

    def test_a_post_from_another_origin_is_refused(self, admin: TestClient) -> None:
        text, fields = edit_form(admin)
        response = admin.post(
            f"/admin/exercises/{SLUG}",
            data={**fields, "document": renamed(text, "Cat stretch, cross-site")},
            headers={"Origin": "https://evil.example"},
            follow_redirects=False,
        )
        assert response.status_code == 403
        assert public_record(admin).json()["name"] == "Cat stretch"

    def test_a_post_without_a_session_shows_the_login_form(
        self, admin: TestClient, admin_key: str
    ) -> None:
        text, fields = edit_form(admin)
        admin.cookies.clear()
        response = save(admin, renamed(text, "Cat stretch, no session"), fields)
        assert response.status_code == 401
        assert "session has ended" in response.text
        assert public_record(admin).json()["name"] == "Cat stretch"
        assert audit_count(admin, admin_key) == 0


class TestEditing:
    def test_the_exercise_page_shows_how_its_figure_is_drawn(self, admin: TestClient) -> None:
        page = admin.get(f"/admin/exercises/{SLUG}")
        assert page.status_code == 200
        frames = yaml.safe_load(textarea_of(page.text))["figure"]["frames"]
        for frame in frames:
            name = frame["name"]
            assert f'aria-labelledby="{name}-t {name}-d"' in page.text
            assert f"<figcaption>{name}: step {frame['step']}</figcaption>" in page.text
        assert page.text.count("<svg") == len(frames)

    def test_edit_an_exercise_and_see_it_through_the_api(
        self, admin: TestClient, admin_key: str
    ) -> None:
        before = public_record(admin)
        text, fields = edit_form(admin)
        assert fields["version"] == "1"
        assert yaml.safe_load(text)["slug"] == SLUG
        response = save(admin, renamed(text, "Cat stretch (arched back)"), fields)
        assert response.status_code == 303, response.text
        assert response.headers["location"] == f"/admin/exercises/{SLUG}?saved=2"
        page = admin.get(response.headers["location"])
        assert "Saved version 2." in page.text
        assert version_of(page.text) == "2"
        after = public_record(admin)
        assert after.json()["name"] == "Cat stretch (arched back)"
        assert after.headers["etag"] == '"2"' != before.headers["etag"]
        audit = admin.get("/admin/audit")
        assert "ada-admin" in audit.text
        assert f'href="/admin/exercises/{SLUG}"' in audit.text
        assert "Cat stretch (arched back)" in audit.text
        assert audit_count(admin, admin_key) == 1

    def test_an_unchanged_save_keeps_the_document_and_its_version(self, admin: TestClient) -> None:
        before = public_record(admin)
        text, fields = edit_form(admin)
        assert save(admin, text, fields).status_code == 303
        after = public_record(admin)
        assert after.json() == before.json()
        assert after.headers["etag"] == before.headers["etag"]

    def test_a_stale_version_is_412_and_writes_nothing(
        self, admin: TestClient, admin_key: str
    ) -> None:
        text, fields = edit_form(admin)
        elsewhere = admin.patch(
            f"/v1/exercises/{SLUG}",
            json={"name": "Cat stretch, changed elsewhere"},
            headers={"Authorization": f"Bearer {admin_key}", "If-Match": '"1"'},
        )
        assert elsewhere.status_code == 200
        response = save(admin, renamed(text, "Cat stretch, my stale edit"), fields)
        assert response.status_code == 412
        assert is_html(response)
        assert html.escape(STALE_MESSAGE, quote=True) in response.text
        assert "Reload the current version" in response.text
        assert "my stale edit" in textarea_of(response.text)  # the edit is kept to copy
        assert version_of(response.text) == "1"  # so saving again still cannot overwrite
        record = public_record(admin)
        assert record.json()["name"] == "Cat stretch, changed elsewhere"
        assert record.headers["etag"] == '"2"'
        assert audit_count(admin, admin_key) == 1

    @pytest.mark.parametrize(
        ("change", "shown"),
        [
            (lambda text: text + "\n  broken: [", "line "),
            (lambda text: "- just\n- a list\n", "mapping"),
            (lambda text: text.replace("level: beginner", "level: expert"), "level"),
            (lambda text: text.replace("slug: cat-stretch", "slug: other-slug"), "slug"),
            (
                lambda text: re.sub(r"contraindications:\n(- .*\n|  .*\n)+", "", text),
                "flexion_sensitive",
            ),
        ],
        ids=["yaml-syntax", "not-a-mapping", "bad-enum", "slug-mismatch", "content-rule"],
    )
    def test_invalid_content_is_shown_and_nothing_written(
        self, admin: TestClient, admin_key: str, change: Any, shown: str
    ) -> None:
        text, fields = edit_form(admin)
        document = change(text)
        assert document != text
        response = save(admin, document, fields)
        assert response.status_code == 422, response.text
        assert is_html(response)
        assert 'class="error" role="alert"' in response.text
        assert "nothing was written" in response.text
        assert shown in response.text
        assert textarea_of(response.text) == document
        assert version_of(response.text) == "1"
        assert public_record(admin).headers["etag"] == '"1"'
        assert audit_count(admin, admin_key) == 0

    def test_a_missing_version_is_refused(self, admin: TestClient) -> None:
        text, fields = edit_form(admin)
        response = save(admin, text, {"csrf": fields["csrf"]})
        assert response.status_code == 400
        assert is_html(response)
        assert public_record(admin).headers["etag"] == '"1"'

    def test_create_a_new_exercise(self, admin: TestClient, admin_key: str) -> None:
        page = admin.get("/admin/new-exercise")
        assert page.status_code == 200
        template = textarea_of(page.text)
        assert template == NEW_EXERCISE_TEMPLATE
        document = yaml.safe_load(template)
        document.update(slug="gentle-bridge", name="Gentle bridge")
        response = admin.post(
            "/admin/new-exercise",
            data={"csrf": csrf_of(page.text), "document": yaml.safe_dump(document)},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/admin/exercises/gentle-bridge?saved=1"
        assert "Saved version 1." in admin.get(response.headers["location"]).text
        stored = admin.get(
            "/v1/admin/exercises/gentle-bridge", headers={"Authorization": f"Bearer {admin_key}"}
        )
        assert stored.json()["name"] == "Gentle bridge"
        assert stored.json()["status"] == "draft"
        assert public_record(admin, "gentle-bridge").status_code == 404  # drafts stay private
        audit = admin.get("/admin/audit", params={"exercise": "gentle-bridge"})
        assert "create" in audit.text
        assert "ada-admin" in audit.text

    def test_creating_an_existing_slug_or_invalid_content_writes_nothing(
        self, admin: TestClient, admin_key: str
    ) -> None:
        page = admin.get("/admin/new-exercise")
        text, _ = edit_form(admin)
        duplicate = admin.post(
            "/admin/new-exercise",
            data={"csrf": csrf_of(page.text), "document": text},
            follow_redirects=False,
        )
        assert duplicate.status_code == 409
        assert "already exists" in duplicate.text
        invalid = admin.post(
            "/admin/new-exercise",
            data={
                "csrf": csrf_of(page.text),
                "document": NEW_EXERCISE_TEMPLATE.replace("steps:", "stepz:"),
            },
            follow_redirects=False,
        )
        assert invalid.status_code == 422
        assert "stepz" in invalid.text
        assert audit_count(admin, admin_key, "new-exercise") == 0
        assert audit_count(admin, admin_key) == 0


IMAGE_FIELDS = {
    "license": "CC-BY-4.0",
    "author": "A. Physio",
    "source_url": "https://commons.example.org/wiki/File:Cat_stretch.jpg",
    "alt": "A person on hands and knees rounding the back.",
}


def upload_image(
    client: TestClient, data: bytes, slug: str = SLUG, **fields: str
) -> httpx2.Response:
    page = client.get(f"/admin/exercises/{slug}").text
    form = {"csrf": csrf_of(page), "version": version_of(page), **IMAGE_FIELDS, **fields}
    return client.post(
        f"/admin/exercises/{slug}/media",
        data={name: value for name, value in form.items() if value},
        files={"file": ("photo.jpg", data, "image/jpeg")},
        follow_redirects=False,
    )


class TestImages:
    def test_an_image_is_uploaded_shown_with_its_licence_and_removed(
        self, admin: TestClient
    ) -> None:
        uploaded = upload_image(admin, image_files.jpeg_with_gps())
        assert uploaded.status_code == 303, uploaded.text
        assert uploaded.headers["location"] == f"/admin/exercises/{SLUG}?saved=2"
        (record,) = admin.get(f"/v1/exercises/{SLUG}/media").json()["items"]
        assert {key: record[key] for key in IMAGE_FIELDS} == IMAGE_FIELDS
        page = admin.get(uploaded.headers["location"]).text
        thumbnail = f"/admin/exercises/{SLUG}/media/{record['id']}/thumbnail"
        assert f'<img src="{thumbnail}" alt="{IMAGE_FIELDS["alt"]}">' in page
        for value in IMAGE_FIELDS.values():
            assert html.escape(value) in page
        served = admin.get(thumbnail)
        assert served.status_code == 200
        assert served.headers["content-type"] == "image/jpeg"
        assert served.content == admin.get(record["thumbnail_url"]).content
        assert (
            "img-src 'self'"
            in admin.get(f"/admin/exercises/{SLUG}").headers["content-security-policy"]
        )

        removed = admin.post(
            f"/admin/exercises/{SLUG}/media/{record['id']}/remove",
            data={"csrf": csrf_of(page), "version": version_of(page)},
            follow_redirects=False,
        )
        assert removed.status_code == 303
        assert admin.get(f"/v1/exercises/{SLUG}/media").json()["items"] == []
        assert "No images yet." in admin.get(f"/admin/exercises/{SLUG}").text

    def test_a_refused_upload_is_shown_on_the_page_and_writes_nothing(
        self, admin: TestClient
    ) -> None:
        not_an_image = upload_image(admin, b"%PDF-1.4 not an image")
        assert not_an_image.status_code == 415
        assert is_html(not_an_image)
        assert "Nothing was attached or removed" in not_an_image.text
        assert 'role="alert" id="media-error"' in not_an_image.text
        no_licence = upload_image(admin, image_files.png(), license="")
        assert no_licence.status_code == 422
        assert "<code>license</code>" in no_licence.text
        assert 'value="A. Physio"' in no_licence.text  # what was typed is kept
        forged = admin.post(
            f"/admin/exercises/{SLUG}/media",
            data={"csrf": "0" * 64, "version": "1", **IMAGE_FIELDS},
            files={"file": ("photo.png", image_files.png(), "image/png")},
            follow_redirects=False,
        )
        assert forged.status_code == 403
        assert admin.get(f"/v1/exercises/{SLUG}").headers["etag"] == '"1"'
        assert admin.get(f"/v1/exercises/{SLUG}/media").json()["items"] == []


class TestPages:
    def test_list_shows_every_status_and_searches(self, admin: TestClient, admin_key: str) -> None:
        admin.delete(
            "/v1/exercises/heel-raises",
            headers={"Authorization": f"Bearer {admin_key}", "If-Match": '"1"'},
        )
        everything = admin.get("/admin").text
        assert "Heel raises" in everything
        assert "status-retired" in everything
        assert f'href="/admin/exercises/{SLUG}"' in everything
        found = admin.get("/admin", params={"q": "CAT"}).text
        assert "Cat stretch" in found
        assert "Heel raises" not in found
        by_slug = admin.get("/admin", params={"q": "heel-rai"}).text
        assert "Heel raises" in by_slug
        retired = admin.get("/admin", params={"status": "retired", "q": ""}).text
        assert "Heel raises" in retired
        assert "Cat stretch" not in retired
        assert "1 exercise match" in retired

    def test_errors_are_html_pages(self, admin: TestClient) -> None:
        cases = {
            "/admin?status=lost": 400,
            "/admin?nope=1": 400,
            "/admin/exercises/no-such-exercise": 404,
            "/admin/no/such/page": 404,
            "/admin/audit?before=0": 422,
        }
        for path, status in cases.items():
            response = admin.get(path)
            assert response.status_code == status, path
            assert is_html(response), path
            assert "Traceback" not in response.text
            assert "<h1>" in response.text
        assert admin.get("/admin/", follow_redirects=False).headers["location"] == "/admin"

    def test_pages_carry_security_headers(self, admin: TestClient) -> None:
        for path in ["/admin", "/admin/login", "/admin/no-such-page"]:
            headers = admin.get(path).headers
            assert headers["cache-control"] == "no-store"
            assert "frame-ancestors 'none'" in headers["content-security-policy"]
            assert headers["x-frame-options"] == "DENY"

    def test_audit_pages_newest_first_and_filters(
        self, admin: TestClient, fresh_database_url: str
    ) -> None:
        engine = build_engine(fresh_database_url)
        with Session(engine) as session, session.begin():
            for number in range(60):
                slug = SLUG if number % 2 else "heel-raises"
                before = {"name": f"name {number}"}
                after = {"name": f"name {number + 1}"}
                record_change(session, f"actor-{number}", "update", slug, before, after)
        engine.dispose()
        first = admin.get("/admin/audit").text
        assert first.count("<tr>") == 1 + 50
        assert first.index("actor-59") < first.index("actor-58")
        more = re.search(r'href="(/admin/audit\?[^"]+)">More', first)
        assert more
        second = admin.get(html.unescape(more.group(1))).text
        seeded = second.count("<td>seed command</td>")  # the seed's own creations, oldest
        assert seeded > 0
        assert second.count("<tr>") == 1 + 10 + seeded
        assert "actor-0<" in second
        assert "actor-59" not in second
        assert ">More" not in second
        filtered = admin.get("/admin/audit", params={"exercise": "heel-raises"}).text
        assert "actor-58" in filtered
        assert "actor-59" not in filtered
        assert datetime.now(UTC).strftime("%Y-%m-%d") in filtered

    def test_the_ui_is_not_in_the_api_contract(self) -> None:
        paths = create_app().openapi()["paths"]
        assert not [path for path in paths if path.startswith("/admin")]

    def test_the_key_never_appears(
        self, fresh_client: TestClient, admin_key: str, editor_key: str
    ) -> None:
        seen: list[httpx2.Response] = [log_in(fresh_client, editor_key), log_in(fresh_client, "x")]
        seen.append(log_in(fresh_client, admin_key))
        for path in ["/admin", "/admin/login", f"/admin/exercises/{SLUG}", "/admin/audit"]:
            seen.append(fresh_client.get(path))
        text, fields = edit_form(fresh_client)
        seen.append(save(fresh_client, renamed(text, "Cat stretch, renamed"), fields))
        seen.append(save(fresh_client, text, fields))  # stale
        seen.append(fresh_client.get("/admin/audit"))
        for response in seen:
            for secret in (admin_key, editor_key):
                assert secret not in response.text
                assert secret not in str(response.headers)
                assert secret not in str(response.url)
        assert admin_key not in str(fresh_client.cookies.get(COOKIE))


# --- a real browser against a real server -------------------------------------------------------

BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def chromium_and_playwright() -> tuple[str, Any]:
    """Debian's chromium and Playwright's sync API, or a skip saying which is missing."""
    executable = chromium_path()
    if executable is None:
        pytest.skip("no chromium executable (Debian: apt-get install chromium)")
    return executable, pytest.importorskip("playwright.sync_api")


def log_in_page(page: Any, live_server: str, key: str, landing: str) -> None:
    """Log a browser page in with `key`, waiting for the page the key lands on."""
    page.goto(f"{live_server}/admin/login")
    page.get_by_label("Admin key").fill(key)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server}{landing}")


@pytest.fixture
def browser_server(store: Any, live_server: str) -> str:
    if store.kind != "sqlite":
        pytest.skip("the browser test runs on the SQLite store only, to keep the suite fast")
    return live_server


def test_a_real_browser_logs_in_and_edits_an_exercise(
    browser_server: str, fresh_database_url: str
) -> None:
    live_server = browser_server
    executable, sync_api = chromium_and_playwright()
    key = make_key(fresh_database_url, "browser-admin", Role.admin)
    before = httpx.get(f"{live_server}/v1/exercises/{SLUG}")
    assert before.headers["etag"] == '"1"'

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=BROWSER_ARGS
        )
        try:
            page = browser.new_page()
            page.goto(f"{live_server}/admin")
            assert page.url == f"{live_server}/admin/login"
            page.get_by_label("Admin key").fill(key)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{live_server}/admin")
            sync_api.expect(page.get_by_text("Signed in as")).to_contain_text("browser-admin")

            page.get_by_role("link", name="Cat stretch", exact=True).click()
            page.wait_for_url(f"{live_server}/admin/exercises/{SLUG}")
            editor = page.get_by_label("Exercise (YAML)")
            text = editor.input_value()
            assert "name: Cat stretch\n" in text
            editor.fill(text.replace("name: Cat stretch\n", "name: Cat stretch (from a browser)\n"))
            page.get_by_role("button", name="Save").click()
            page.wait_for_url(f"{live_server}/admin/exercises/{SLUG}?saved=2")
            sync_api.expect(page.get_by_role("status")).to_have_text("Saved version 2.")
            assert "name: Cat stretch (from a browser)" in editor.input_value()
            cookies = page.context.cookies()
            assert all(key not in cookie["value"] for cookie in cookies)
            assert key not in page.content()
            if os.environ.get("ADMIN_UI_SCREENSHOT"):
                page.screenshot(path=os.environ["ADMIN_UI_SCREENSHOT"], full_page=False)
        finally:
            browser.close()

    after = httpx.get(f"{live_server}/v1/exercises/{SLUG}")
    assert after.json()["name"] == "Cat stretch (from a browser)"
    assert after.headers["etag"] == '"2"'


@pytest.fixture
def clinician_key(fresh_database_url: str) -> str:
    return make_key(fresh_database_url, "cleo-clinician", Role.clinician)


class TestProgramBuilder:
    def test_a_clinician_key_opens_only_the_program_builder(
        self, fresh_client: TestClient, clinician_key: str
    ) -> None:
        response = log_in(fresh_client, clinician_key)
        assert response.status_code == 303
        assert response.headers["location"] == "/admin/programs"
        builder = fresh_client.get("/admin/programs")
        assert builder.status_code == 200
        assert "script-src 'self'" in builder.headers["content-security-policy"]
        assert "Program builder" in builder.text
        assert 'href="/admin/audit"' not in builder.text
        refused = fresh_client.get("/admin")
        assert refused.status_code == 403
        assert "clinician key" in refused.text
        script = fresh_client.get("/admin/programs.js")
        assert script.headers["content-type"].startswith("text/javascript")

    def test_the_generated_program_for_a_profile_stores_nothing(
        self, admin: TestClient, fresh_database_url: str
    ) -> None:
        profile = {"sensitivity": "flexion_sensitive", "minutes": 15}
        response = admin.post("/admin/programs/generated", json=profile)
        assert response.status_code == 200, response.text
        blocks = response.json()["blocks"]
        assert blocks
        assert all("@" in item["exercise"] for block in blocks for item in block["items"])

    def test_saving_refuses_an_unanswered_block_and_keeps_the_program(
        self, fresh_client: TestClient, clinician_key: str
    ) -> None:
        log_in(fresh_client, clinician_key)
        builder = fresh_client.get("/admin/programs")
        request = {
            "profile": {"sensitivity": "flexion_sensitive"},
            "program": {
                "blocks": [
                    {"name": "main", "items": [{"exercise": "double-knee-to-chest", "dose": {}}]}
                ]
            },
        }
        fields = {"csrf": csrf_of(builder.text), "request": json.dumps(request)}
        refused = fresh_client.post("/admin/programs", data=fields)
        assert refused.status_code == 422
        assert "Program refused" in refused.text
        assert "double-knee-to-chest" in refused.text
        request["overrides"] = [
            {
                "rule": "direction-flag",
                "pointer": "/program/blocks/0/items/0",
                "reason": "Knee hugs ease this person's pain on examination",
            }
        ]
        fields["request"] = json.dumps(request)
        saved = fresh_client.post("/admin/programs", data=fields)
        assert saved.status_code == 201, saved.text
        assert "Program saved" in saved.text
        assert "Print the handout" in saved.text


def test_a_real_browser_builds_checks_overrides_and_prints_a_program(
    browser_server: str, fresh_database_url: str
) -> None:
    live_server = browser_server
    executable, sync_api = chromium_and_playwright()
    key = make_key(fresh_database_url, "browser-clinician", Role.clinician)
    expect = sync_api.expect
    wait = {"timeout": 30_000}

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=BROWSER_ARGS
        )
        try:
            page = browser.new_page()
            log_in_page(page, live_server, key, "/admin/programs")

            page.get_by_label("Sensitivity").select_option("flexion_sensitive")
            page.get_by_label("Phase").select_option("recovering")
            page.get_by_role("button", name="Start from a generated routine").click()
            expect(page.locator("#items tr").first).to_be_visible(**wait)
            findings = page.locator("#findings")
            expect(findings).to_contain_text("No findings", **wait)

            page.get_by_label("Search exercises").fill("double knee")
            page.get_by_role("button", name=re.compile("^Add Double knee")).click()
            expect(findings).to_contain_text("block: direction-flag", **wait)
            reason = page.get_by_label(re.compile("^Reason for overriding direction-flag"))
            reason.fill("On examination, knee hugs ease this person's pain")
            page.get_by_role("button", name="Save program").click()
            expect(page.get_by_role("heading", name="Program saved")).to_be_visible(**wait)
            token = page.locator("#delete-token").inner_text()
            assert token

            page.get_by_role("link", name="Print the handout").click()
            expect(
                page.get_by_text("Your clinician chose this because on examination")
            ).to_be_visible(**wait)
            page.emulate_media(media="print")
            pdf = page.pdf(format="A4")
            assert pdf.startswith(b"%PDF")
            assert key not in page.content()
        finally:
            browser.close()


def test_a_real_browser_uploads_an_image_and_sees_it_on_the_page_and_in_the_handout(
    browser_server: str, fresh_database_url: str, tmp_path: Path
) -> None:
    live_server = browser_server
    executable, sync_api = chromium_and_playwright()
    expect = sync_api.expect
    key = make_key(fresh_database_url, "browser-admin", Role.admin)
    photo = tmp_path / "cat-stretch.jpg"
    photo.write_bytes(image_files.jpeg_with_gps((800, 600)))
    credit = f"Image: {IMAGE_FIELDS['author']}, CC-BY-4.0, {IMAGE_FIELDS['source_url']}"

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=BROWSER_ARGS
        )
        try:
            page = browser.new_page()
            log_in_page(page, live_server, key, "/admin")
            page.goto(f"{live_server}/admin/exercises/{SLUG}")
            page.get_by_label("Image file").set_input_files(str(photo))
            page.get_by_label("Licence").select_option("CC-BY-4.0")
            page.get_by_label("Author").fill(IMAGE_FIELDS["author"])
            page.get_by_label("Source URL").fill(IMAGE_FIELDS["source_url"])
            page.get_by_label("Alt text").fill(IMAGE_FIELDS["alt"])
            page.get_by_role("button", name="Upload image").click()
            page.wait_for_url(f"{live_server}/admin/exercises/{SLUG}?saved=2")
            shown = page.get_by_role("img", name=IMAGE_FIELDS["alt"])
            expect(shown).to_be_visible()
            assert shown.evaluate("image => image.naturalWidth") > 0  # the thumbnail loaded
            expect(page.locator(".image")).to_contain_text("CC-BY-4.0")

            routine = httpx.post(
                f"{live_server}/v1/routines", json={"sensitivity": "none", "minutes": 15, "seed": 1}
            )
            assert routine.status_code == 201, routine.text
            (item,) = [
                item
                for block in routine.json()["blocks"]
                for item in block["items"]
                if item["exercise"]["slug"] == SLUG
            ]
            assert item["exercise"]["version"] == 2
            handout = f"{live_server}/v1/routines/{routine.json()['id']}/handout"
            page.goto(f"{handout}?format=html")
            printed = page.get_by_role("img", name=IMAGE_FIELDS["alt"])
            expect(printed).to_be_visible()
            assert printed.evaluate("image => image.naturalWidth") > 0
            expect(page.get_by_text(credit)).to_be_visible()
        finally:
            browser.close()

    pdf = httpx.get(handout, params={"format": "pdf"}, timeout=60)
    assert pdf.status_code == 200
    reader = pypdf.PdfReader(io.BytesIO(pdf.content))
    assert len(reader.pages) <= 2
    text = " ".join(page.extract_text() for page in reader.pages)
    assert IMAGE_FIELDS["author"] in text
    assert any(page.images for page in reader.pages)
