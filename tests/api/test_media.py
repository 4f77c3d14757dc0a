"""Editors' images through HTTP, on each store: real files attached with their licence, served
stripped by an immutable content-hash URL, refused with a problem naming the field, removed with
an audit entry, and carried by the exercise's documents, the changes feed and the download."""

import hashlib
import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import image_files
import pytest
from conftest import Store, issue_key_headers
from fastapi.testclient import TestClient
from PIL import Image

from app.core.security import Role
from app.core.settings import Settings
from app.domain.vocabulary import License
from app.main import create_app

PROBLEM = "application/problem+json"
IMMUTABLE = "public, max-age=31536000, immutable"
RECORD_FIELDS = {
    "id",
    "sha256",
    "url",
    "thumbnail_url",
    "license",
    "author",
    "source_url",
    "alt",
    "width",
    "height",
    "content_type",
    "byte_size",
}


@pytest.fixture(scope="module")
def media_database_url(store: Store) -> str:
    """A seeded database these tests share: each attaches to exercises of its own."""
    return store.fresh()


@pytest.fixture(scope="module")
def http(media_database_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=media_database_url, rate_limit_media_uploads="1000/minute")
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def editor(media_database_url: str) -> dict[str, str]:
    return issue_key_headers(media_database_url, "media-editor", Role.editor)


@pytest.fixture(scope="module")
def admin(media_database_url: str) -> dict[str, str]:
    return issue_key_headers(media_database_url, "media-admin", Role.admin)


def fields_named(response: Any) -> list[str]:
    assert response.headers["content-type"] == PROBLEM, response.text
    return [error["field"] for error in response.json()["errors"]]


def test_an_upload_is_answered_with_its_record_and_listed(
    http: TestClient, editor: dict[str, str]
) -> None:
    before = http.get("/v1/exercises/cat-stretch").json()["version"]
    response = image_files.upload(http, "cat-stretch", editor, image_files.jpeg((3000, 2000)))
    assert response.status_code == 201, response.text
    record = response.json()
    assert set(record) == RECORD_FIELDS
    assert response.headers["location"] == f"/v1/exercises/cat-stretch/media/{record['id']}"
    assert {name: record[name] for name in image_files.ATTRIBUTION} == image_files.ATTRIBUTION
    assert record["content_type"] == "image/jpeg"
    assert (record["width"], record["height"]) == (2048, 1365)  # scaled to the served maximum
    assert record["url"] == f"/v1/media/{record['sha256']}.jpg"
    assert record["thumbnail_url"] == f"/v1/media/{record['sha256']}/thumbnail.jpg"
    assert record["id"] == record["sha256"][:12]

    listing = http.get("/v1/exercises/cat-stretch/media")
    assert listing.status_code == 200
    assert listing.json()["items"] == [record]
    assert listing.json()["version"] == before + 1
    assert listing.headers["etag"] == f'"{before + 1}"'
    again = http.get(
        "/v1/exercises/cat-stretch/media", headers={"If-None-Match": f'"{before + 1}"'}
    )
    assert again.status_code == 304
    assert http.get(response.headers["location"]).json() == record
    detail = http.get("/v1/exercises/cat-stretch").json()
    assert detail["media"] == [record]
    assert detail["version"] == before + 1


@pytest.mark.parametrize(
    ("make", "content_type", "extension"),
    [(image_files.png, "image/png", "png"), (image_files.webp, "image/webp", "webp")],
)
def test_png_and_webp_are_kept_in_their_format(
    http: TestClient, editor: dict[str, str], make: Any, content_type: str, extension: str
) -> None:
    response = image_files.upload(http, "heel-slides", editor, make())
    assert response.status_code == 201, response.text
    record = response.json()
    assert record["content_type"] == content_type
    assert record["url"].endswith(f".{extension}")
    served = http.get(record["url"])
    assert served.headers["content-type"] == content_type
    assert Image.open(io.BytesIO(served.content)).size == (640, 480)


def test_the_file_is_served_immutable_by_its_hash_with_no_metadata(
    http: TestClient, editor: dict[str, str]
) -> None:
    response = image_files.upload(
        http, "childs-pose", editor, image_files.jpeg_with_gps((800, 600))
    )
    assert response.status_code == 201, response.text
    record = response.json()
    assert (record["width"], record["height"]) == (600, 800)  # turned upright by its EXIF
    served = http.get(record["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["cache-control"] == IMMUTABLE
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert hashlib.sha256(served.content).hexdigest() == record["sha256"]
    assert len(served.content) == record["byte_size"]
    image = Image.open(io.BytesIO(served.content))
    assert not image.getexif()
    assert b"Exif" not in served.content
    assert b"PhoneMaker" not in served.content
    etag = served.headers["etag"]
    assert etag == f'"{record["sha256"]}"'
    assert http.get(record["url"], headers={"If-None-Match": etag}).status_code == 304

    thumbnail = http.get(record["thumbnail_url"])
    assert thumbnail.status_code == 200
    assert thumbnail.headers["cache-control"] == IMMUTABLE
    assert Image.open(io.BytesIO(thumbnail.content)).size == (240, 320)
    assert not Image.open(io.BytesIO(thumbnail.content)).getexif()
    not_modified = http.get(
        record["thumbnail_url"], headers={"If-None-Match": thumbnail.headers["etag"]}
    )
    assert not_modified.status_code == 304
    assert http.get(record["url"].replace(".jpg", ".png")).status_code == 404
    unknown = "/v1/media/" + "0" * 64 + ".jpg"
    assert http.get(unknown).status_code == 404


@pytest.mark.parametrize(
    ("data", "status", "slug"),
    [
        (b"just some words\n", 415, "unsupported-image"),
        (image_files.pdf(), 415, "unsupported-image"),
        (image_files.zip_archive(), 415, "unsupported-image"),
        (image_files.jpeg()[:5000], 422, "invalid-image"),
        (image_files.png_bomb(), 413, "image-too-large"),
        (image_files.jpeg() + image_files.zip_archive(), 422, "invalid-image"),
        (image_files.png() + b"<html><script>alert(1)</script></html>", 422, "invalid-image"),
        (b"", 422, "invalid-image"),
    ],
    ids=["text", "pdf", "zip", "truncated", "bomb", "jpeg+zip", "png+html", "empty"],
)
def test_what_is_not_a_plain_image_is_refused_naming_the_file(
    http: TestClient, editor: dict[str, str], data: bytes, status: int, slug: str
) -> None:
    before = http.get("/v1/exercises/ankle-pumps").json()
    response = image_files.upload(http, "ankle-pumps", editor, data)
    assert response.status_code == status, response.text
    assert response.json()["type"].endswith(f"/{slug}")
    assert fields_named(response) == ["file"]
    assert http.get("/v1/exercises/ankle-pumps").json() == before  # nothing written


@pytest.mark.parametrize("missing", ["license", "author", "source_url", "alt"])
def test_each_attribution_field_is_required(
    http: TestClient, editor: dict[str, str], missing: str
) -> None:
    response = image_files.upload(
        http, "ankle-pumps", editor, image_files.jpeg(), **{missing: None}
    )
    assert response.status_code == 422
    assert fields_named(response) == [missing]


def test_every_missing_field_is_named_at_once(http: TestClient, editor: dict[str, str]) -> None:
    response = http.post("/v1/exercises/ankle-pumps/media", data={"x": "y"}, headers=editor)
    assert response.status_code in (415, 422)
    empty = http.post(
        "/v1/exercises/ankle-pumps/media",
        files={"note": (None, "nothing")},
        headers=editor,
    )
    assert empty.status_code == 422
    assert sorted(fields_named(empty)) == sorted(["file", "license", "author", "source_url", "alt"])


def test_a_malformed_multipart_body_is_a_400(http: TestClient, editor: dict[str, str]) -> None:
    two_files = http.post(
        "/v1/exercises/ankle-pumps/media",
        files=[("file", ("a.jpg", b"a")), ("file", ("b.jpg", b"b"))],
        headers=editor,
    )
    assert two_files.status_code == 400
    assert two_files.json()["type"].endswith("/malformed-body")
    broken = http.post(
        "/v1/exercises/ankle-pumps/media",
        content=b"--x\r\nContent-Disposition: form-data\r\n\r\nno end",
        headers={**editor, "Content-Type": "multipart/form-data; boundary=x"},
    )
    assert broken.status_code in (400, 422)
    assert broken.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("license", "GPL-3.0-only"),
        ("license", "cc-by-4.0"),
        ("source_url", "ftp://example.org/a.jpg"),
        ("source_url", "not a url"),
        ("author", "   "),
        ("alt", ""),
    ],
)
def test_an_invalid_field_is_named(
    http: TestClient, editor: dict[str, str], field: str, value: str
) -> None:
    response = image_files.upload(http, "ankle-pumps", editor, image_files.jpeg(), **{field: value})
    assert response.status_code == 422, response.text
    assert fields_named(response) == [field]
    if field == "license":
        assert all(item.value in response.text for item in License)


def test_an_upload_needs_an_editor_key_and_a_multipart_body(
    http: TestClient, editor: dict[str, str], media_database_url: str
) -> None:
    assert image_files.upload(http, "ankle-pumps", {}, image_files.jpeg()).status_code == 401
    clinician = issue_key_headers(media_database_url, "media-clinician", Role.clinician)
    assert image_files.upload(http, "ankle-pumps", clinician, image_files.jpeg()).status_code == 403
    as_json = http.post(
        "/v1/exercises/ankle-pumps/media", json=image_files.ATTRIBUTION, headers=editor
    )
    assert as_json.status_code == 415
    assert (
        image_files.upload(http, "no-such-exercise", editor, image_files.jpeg()).status_code == 404
    )


def test_the_same_image_twice_is_a_conflict_and_a_stale_if_match_is_refused(
    http: TestClient, editor: dict[str, str]
) -> None:
    data = image_files.png((300, 200))
    assert image_files.upload(http, "wall-squat", editor, data).status_code == 201
    assert image_files.upload(http, "wall-squat", editor, data).status_code == 409
    version = http.get("/v1/exercises/wall-squat").json()["version"]
    stale = {**editor, "If-Match": f'"{version - 1}"'}
    assert image_files.upload(http, "wall-squat", stale, image_files.webp()).status_code == 412
    current = {**editor, "If-Match": f'"{version}"'}
    assert image_files.upload(http, "wall-squat", current, image_files.webp()).status_code == 201


def test_removing_an_image_is_an_audited_edit_and_its_url_stops_serving(
    http: TestClient, editor: dict[str, str], admin: dict[str, str]
) -> None:
    record = image_files.upload(http, "swimming", editor, image_files.jpeg()).json()
    assert http.get(record["url"]).status_code == 200
    version = http.get("/v1/exercises/swimming").json()["version"]
    path = f"/v1/exercises/swimming/media/{record['id']}"
    assert http.delete(path).status_code == 401
    response = http.delete(path, headers=editor)
    assert response.status_code == 204
    assert http.get("/v1/exercises/swimming").json()["version"] == version + 1
    assert http.get("/v1/exercises/swimming/media").json()["items"] == []
    assert http.get(path).status_code == 404
    assert http.get(record["url"]).status_code == 404
    assert http.get(record["thumbnail_url"]).status_code == 404
    assert http.delete(path, headers=editor).status_code == 404
    audit = http.get("/v1/admin/audit", params={"exercise": "swimming"}, headers=admin).json()
    removed, attached = audit["items"][:2]
    assert (removed["action"], removed["actor"]) == ("remove-media", "media-editor")
    assert removed["before"]["media"][0]["id"] == record["id"]
    assert removed["after"]["media"] == []
    assert attached["action"] == "attach-media"
    assert attached["after"]["media"][0]["license"] == image_files.ATTRIBUTION["license"]


def test_the_changes_feed_the_download_and_the_versions_carry_the_media(
    http: TestClient, editor: dict[str, str]
) -> None:
    since = http.get("/v1/changes", params={"since": 0}).json()["revision"]
    record = image_files.upload(http, "cycling", editor, image_files.webp()).json()
    changes = http.get("/v1/changes", params={"since": since}).json()
    assert [item["slug"] for item in changes["items"]] == ["cycling"]
    assert changes["items"][0]["exercise"]["media"] == [record]
    download = http.get("/v1/catalogue").json()
    cycling = next(item for item in download["items"] if item["slug"] == "cycling")
    assert cycling["media"] == [record]
    assert all("media" in item for item in download["items"])
    versions = http.get("/v1/exercises/cycling/versions").json()["items"]
    latest = http.get(f"/v1/exercises/cycling/versions/{versions[-1]['version']}").json()
    assert latest["media"] == [record]


def test_an_exercise_write_keeps_its_media(http: TestClient, editor: dict[str, str]) -> None:
    record = image_files.upload(http, "heel-raises", editor, image_files.png()).json()
    stored = http.get("/v1/admin/exercises/heel-raises", headers=editor)
    document = stored.json()
    document["name"] = "Heel raises (calf raises)"
    headers = {**editor, "If-Match": stored.headers["etag"]}
    put = http.put("/v1/exercises/heel-raises", json=document, headers=headers)
    assert put.status_code == 200, put.text
    assert put.json()["media"] == [record]
    document = put.json()
    document.pop("media")
    document["name"] = "Heel raises"
    headers = {**editor, "If-Match": put.headers["etag"]}
    without = http.put("/v1/exercises/heel-raises", json=document, headers=headers)
    assert without.status_code == 200, without.text
    assert without.json()["media"] == [record]
    headers = {**editor, "If-Match": without.headers["etag"]}
    patched = http.patch("/v1/exercises/heel-raises", json={"level": "beginner"}, headers=headers)
    assert patched.status_code == 200, patched.text
    assert patched.json()["media"] == [record]
    changed = http.patch(
        "/v1/exercises/heel-raises",
        json={"media": []},
        headers={**editor, "If-Match": patched.headers["etag"]},
    )
    assert changed.status_code == 422
    assert fields_named(changed) == ["media"]


def test_a_draft_or_retired_exercise_serves_no_media(
    http: TestClient, editor: dict[str, str]
) -> None:
    record = image_files.upload(http, "treadmill-walking", editor, image_files.jpeg()).json()
    assert http.get(record["url"]).status_code == 200
    etag = http.get("/v1/admin/exercises/treadmill-walking", headers=editor).headers["etag"]
    headers = {**editor, "If-Match": etag}
    draft = http.patch("/v1/exercises/treadmill-walking", json={"status": "draft"}, headers=headers)
    assert draft.status_code == 200, draft.text
    assert http.get(record["url"]).status_code == 404
    assert http.get("/v1/exercises/treadmill-walking/media").status_code == 404
    headers = {**editor, "If-Match": draft.headers["etag"]}
    assert http.delete("/v1/exercises/treadmill-walking", headers=headers).status_code == 200
    assert http.get(record["url"]).status_code == 404
    assert (
        image_files.upload(http, "treadmill-walking", editor, image_files.png()).status_code == 409
    )
    path = f"/v1/exercises/treadmill-walking/media/{record['id']}"
    assert http.delete(path, headers=editor).status_code == 409


def test_over_the_byte_limit_is_413(media_database_url: str, editor: dict[str, str]) -> None:
    settings = Settings(database_url=media_database_url, media_max_upload_bytes=2048)
    with TestClient(create_app(settings)) as small:
        response = image_files.upload(small, "ankle-pumps", editor, image_files.jpeg())
        assert response.status_code == 413
        assert fields_named(response) == ["file"]
        huge = image_files.upload(small, "ankle-pumps", editor, b"\xff\xd8\xff" + b"\x00" * 200_000)
        assert huge.status_code == 413


def test_uploads_are_rate_limited(media_database_url: str, editor: dict[str, str]) -> None:
    settings = Settings(database_url=media_database_url, rate_limit_media_uploads="2/minute")
    with TestClient(create_app(settings)) as limited:
        statuses = [
            image_files.upload(limited, "ankle-pumps", editor, b"not an image").status_code
            for _ in range(3)
        ]
        assert statuses == [415, 415, 429]


def test_uploads_at_once_to_one_exercise_each_make_a_version(
    http: TestClient, editor: dict[str, str]
) -> None:
    before = http.get("/v1/exercises/piriformis-stretch").json()["version"]
    files = [image_files.png((100 + index, 80)) for index in range(4)]
    with ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(
                lambda data: image_files.upload(http, "piriformis-stretch", editor, data), files
            )
        )
    assert [answer.status_code for answer in answers] == [201] * 4
    listing = http.get("/v1/exercises/piriformis-stretch/media").json()
    assert listing["version"] == before + 4
    assert sorted(item["id"] for item in listing["items"]) == sorted(
        answer.json()["id"] for answer in answers
    )


def test_one_image_on_two_exercises_serves_while_either_is_published(
    http: TestClient, editor: dict[str, str]
) -> None:
    data = image_files.webp((320, 200))
    first = image_files.upload(http, "double-knee-to-chest", editor, data).json()
    assert http.get(first["url"]).status_code == 200  # now in the file cache
    second = image_files.upload(http, "single-knee-to-chest", editor, data).json()
    assert second["url"] == first["url"]
    etag = http.get("/v1/admin/exercises/double-knee-to-chest", headers=editor).headers["etag"]
    retired = http.delete(
        "/v1/exercises/double-knee-to-chest", headers={**editor, "If-Match": etag}
    )
    assert retired.status_code == 200
    assert http.get(first["url"]).status_code == 200  # single-knee-to-chest still lists it
    removed = http.delete(
        f"/v1/exercises/single-knee-to-chest/media/{second['id']}", headers=editor
    )
    assert removed.status_code == 204
    assert http.get(first["url"]).status_code == 404
