"""HTTP caching as RFC 9110 and 9111 say, through HTTP: ETags and 304s, HEAD, Cache-Control and
Vary, If-Match, compression (once per snapshot for the hot bodies)."""

import gzip
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from contract_validation import parameters_of
from fastapi.testclient import TestClient

from app.api import http_cache
from app.core.security import Role
from app.core.settings import Settings
from app.main import create_app

PROBLEM = "application/problem+json"
PUBLIC = "public, max-age=0, must-revalidate"
PRIVATE = "private, max-age=31536000, immutable"
LIST = "/v1/exercises?safe_for=flexion_sensitive&limit=100"
REFERENCE_READS = [
    "/v1/target-areas",
    "/v1/categories",
    "/v1/equipment",
    "/v1/positions",
    "/v1/progression-levels",
    "/v1/contraindications",
    "/v1/sources",
    "/v1/red-flags",
    "/v1/routine-rules",
    "/v1/exercises/cat-stretch/progressions",
    "/v1/changes?since=0",
]


def identity(client: TestClient, url: str, **headers: str) -> httpx2.Response:
    """A GET that asks for no compression, so headers describe the plain body."""
    return client.get(url, headers={"Accept-Encoding": "identity", **headers})


def is_strong(tag: str) -> bool:
    return tag.startswith('"') and tag.endswith('"') and len(tag) > 2


def assert_not_modified(response: httpx2.Response, first: httpx2.Response) -> None:
    assert response.status_code == 304, response.text
    assert response.content == b""
    for name in ("etag", "cache-control", "vary"):
        assert response.headers.get(name) == first.headers.get(name), name
    assert response.headers["etag"]
    assert "content-type" not in response.headers


@pytest.fixture
def routine(client: TestClient) -> dict[str, Any]:
    created = client.post("/v1/routines", json={"minutes": 15})
    assert created.status_code == 201
    document: dict[str, Any] = created.json()
    return document


@pytest.fixture
def editor(
    fresh_database_url: str, issue_key: Callable[[str, str, Role], dict[str, str]]
) -> dict[str, str]:
    return issue_key(fresh_database_url, "caching-editor", Role.editor)


class TestEntityTags:
    @pytest.mark.parametrize("url", [LIST, "/v1/exercises", *REFERENCE_READS])
    def test_catalogue_reads_carry_the_revision_and_answer_304(
        self, client: TestClient, url: str
    ) -> None:
        first = identity(client, url)
        assert first.status_code == 200
        tag = first.headers["etag"]
        assert is_strong(tag)
        assert first.headers["cache-control"] == PUBLIC
        assert "Accept-Encoding" in first.headers["vary"]
        assert identity(client, url).headers["etag"] == tag
        assert_not_modified(identity(client, url, **{"If-None-Match": tag}), first)

    def test_the_query_is_normalised_and_part_of_the_tag(self, client: TestClient) -> None:
        one = identity(client, "/v1/exercises?level=beginner&safe_for=flexion_sensitive")
        same = identity(client, "/v1/exercises?safe_for=flexion_sensitive&level=beginner")
        other = identity(client, "/v1/exercises?level=beginner")
        assert one.headers["etag"] == same.headers["etag"] != other.headers["etag"]
        assert (
            identity(
                client, "/v1/exercises", **{"If-None-Match": other.headers["etag"]}
            ).status_code
            == 200
        )

    def test_list_tags_follow_the_secret_that_signs_their_cursors(self, database_url: str) -> None:
        def list_tag(secret: str) -> str:
            settings = Settings(database_url=database_url, cursor_secret=secret)
            with TestClient(create_app(settings)) as client:
                return identity(client, "/v1/exercises").headers["etag"]

        shared = "s" * 32
        assert list_tag(shared) == list_tag(shared) != list_tag("t" * 32)

    def test_a_catalogue_change_changes_the_list_tag_and_keeps_the_exercise_version(
        self, fresh_client: TestClient, editor: dict[str, str]
    ) -> None:
        listed = identity(fresh_client, "/v1/exercises")
        detail = identity(fresh_client, "/v1/exercises/cat-stretch")
        assert detail.headers["etag"] == f'"{detail.json()["version"]}"'
        edited = fresh_client.patch(
            "/v1/exercises/heel-slides",
            json={"summary": "Edited for a new revision."},
            headers={**editor, "If-Match": '"1"'},
        )
        assert edited.status_code == 200, edited.text
        tag = listed.headers["etag"]
        again = identity(fresh_client, "/v1/exercises", **{"If-None-Match": tag})
        assert again.status_code == 200
        assert again.headers["etag"] != tag
        unchanged = identity(
            fresh_client, "/v1/exercises/cat-stretch", **{"If-None-Match": detail.headers["etag"]}
        )
        assert_not_modified(unchanged, detail)

    def test_one_exercise_answers_304_to_its_version(self, client: TestClient) -> None:
        first = identity(client, "/v1/exercises/cat-stretch")
        assert first.headers["cache-control"] == PUBLIC
        tag = first.headers["etag"]
        assert_not_modified(
            identity(client, "/v1/exercises/cat-stretch", **{"If-None-Match": tag}), first
        )

    @pytest.mark.parametrize(
        "sent",
        [
            "{tag}",
            "W/{tag}",
            '"other", {tag}',
            '"a",W/"b" ,  {tag}',
            "*",
        ],
    )
    def test_if_none_match_compares_weakly_over_a_list(self, client: TestClient, sent: str) -> None:
        for url in ("/v1/exercises", "/v1/exercises/cat-stretch"):
            first = identity(client, url)
            header = sent.format(tag=first.headers["etag"])
            assert_not_modified(identity(client, url, **{"If-None-Match": header}), first)

    @pytest.mark.parametrize("sent", ['"stale"', 'W/"stale"', '"1-0000000000000000"', "nonsense"])
    def test_a_tag_that_is_not_current_gets_the_body(self, client: TestClient, sent: str) -> None:
        response = identity(client, "/v1/exercises", **{"If-None-Match": sent})
        assert response.status_code == 200
        assert response.json()["items"]

    def test_a_routine_is_tagged_by_its_id_private_and_immutable(
        self, client: TestClient, routine: dict[str, Any]
    ) -> None:
        url = f"/v1/routines/{routine['id']}"
        first = identity(client, url)
        assert first.headers["etag"] == f'"{routine["id"]}"'
        assert first.headers["cache-control"] == PRIVATE
        assert_not_modified(
            identity(client, url, **{"If-None-Match": first.headers["etag"]}), first
        )

    def test_a_routine_304_asks_no_more_of_the_url_than_its_200(
        self, client: TestClient, routine: dict[str, Any]
    ) -> None:
        url = f"/v1/routines/{routine['id']}"
        tag = identity(client, url).headers["etag"]
        unknown = identity(client, f"{url}?saftey_for=x", **{"If-None-Match": tag})
        assert unknown.status_code == 400
        refused = identity(client, url, Accept="text/csv", **{"If-None-Match": tag})
        assert refused.status_code == 406
        missing = identity(
            client, "/v1/routines/no-such-routine", **{"If-None-Match": '"no-such-routine"'}
        )
        assert missing.status_code == 404

    def test_feedback_is_private_and_immutable_too(
        self, client: TestClient, routine: dict[str, Any]
    ) -> None:
        url = f"/v1/routines/{routine['id']}/feedback"
        assert identity(client, url).headers["cache-control"] == "no-store"  # 404: none yet
        given = client.post(
            url,
            json={
                "pain_before": 2,
                "pain_after": 2,
                "completed": True,
                "difficulty": "right",
            },
            headers={"Authorization": f"Bearer {routine['delete_token']}"},
        )
        assert given.status_code == 201, given.text
        assert given.headers["cache-control"] == "no-store"
        first = identity(client, url)
        assert first.headers["cache-control"] == PRIVATE
        assert is_strong(first.headers["etag"])
        assert first.headers["etag"] != f'"{routine["id"]}"'
        assert_not_modified(
            identity(client, url, **{"If-None-Match": first.headers["etag"]}), first
        )

    def test_a_deleted_routine_is_410_whatever_the_client_holds(
        self, client: TestClient, routine: dict[str, Any]
    ) -> None:
        url = f"/v1/routines/{routine['id']}"
        tag = identity(client, url).headers["etag"]
        deleted = client.delete(url, headers={"Authorization": f"Bearer {routine['delete_token']}"})
        assert deleted.status_code == 204
        gone = identity(client, url, **{"If-None-Match": tag})
        assert gone.status_code == 410
        assert gone.headers["cache-control"] == "no-store"
        assert "etag" not in gone.headers

    def test_handouts_keep_their_own_tags(
        self, client: TestClient, routine: dict[str, Any]
    ) -> None:
        url = f"/v1/routines/{routine['id']}/handout"
        first = identity(client, url)
        assert first.headers["cache-control"] == PRIVATE
        assert "Accept" in first.headers["vary"]
        assert_not_modified(
            identity(client, url, **{"If-None-Match": first.headers["etag"]}), first
        )

    @pytest.mark.parametrize("url", ["/openapi.json", "/docs", "/fhir/r4/metadata", "/healthz"])
    def test_every_other_read_is_tagged_too(self, client: TestClient, url: str) -> None:
        first = identity(client, url)
        assert first.status_code == 200
        tag = first.headers["etag"]
        assert tag.removeprefix("W/").startswith('"')
        assert_not_modified(identity(client, url, **{"If-None-Match": tag}), first)


class TestHead:
    @pytest.mark.parametrize(
        "url",
        [LIST, "/v1/exercises/cat-stretch", "/v1/red-flags", "/healthz", "/fhir/r4/metadata"],
    )
    @pytest.mark.parametrize("encoding", ["identity", "gzip"])
    def test_head_answers_what_get_answers_without_the_body(
        self, client: TestClient, url: str, encoding: str
    ) -> None:
        got = client.get(url, headers={"Accept-Encoding": encoding})
        head = client.head(url, headers={"Accept-Encoding": encoding})
        assert head.status_code == got.status_code == 200
        assert head.content == b""
        for name in ("etag", "cache-control", "vary", "content-type", "content-encoding"):
            assert head.headers.get(name) == got.headers.get(name), name
        assert head.headers["content-length"] == got.headers["content-length"]

    def test_head_of_a_routine_and_its_304(
        self, client: TestClient, routine: dict[str, Any]
    ) -> None:
        url = f"/v1/routines/{routine['id']}"
        head = client.head(url)
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["etag"] == f'"{routine["id"]}"'
        assert client.head(url, headers={"If-None-Match": head.headers["etag"]}).status_code == 304

    def test_head_of_what_is_missing_is_its_error_without_a_body(self, client: TestClient) -> None:
        response = client.head("/v1/exercises/no-such-exercise")
        assert response.status_code == 404
        assert response.content == b""
        assert response.headers["cache-control"] == "no-store"

    def test_a_405_lists_head_beside_get(self, client: TestClient) -> None:
        response = client.put("/v1/red-flags")
        assert response.status_code == 405
        assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD"}


class TestCacheControl:
    @pytest.mark.parametrize(
        ("method", "url"),
        [
            ("GET", "/v1/exercises/no-such-exercise"),
            ("GET", "/v1/exercises?saftey_for=x"),
            ("GET", "/v1/exercises?level=superhuman"),
            ("GET", "/v1/routines/no-such-routine"),
            ("GET", "/v1/no-such-path"),
            ("POST", "/v1/exercises"),
            ("DELETE", "/v1/red-flags"),
        ],
    )
    def test_every_error_is_no_store(self, client: TestClient, method: str, url: str) -> None:
        response = client.request(method, url)
        assert response.status_code >= 400
        assert response.headers["content-type"] == PROBLEM
        assert response.headers["cache-control"] == "no-store"
        assert "etag" not in response.headers

    def test_writes_are_no_store(self, client: TestClient) -> None:
        created = client.post("/v1/routines", json={})
        assert created.status_code == 201
        assert created.headers["cache-control"] == "no-store"

    def test_administration_is_no_store_and_varies_on_the_key(
        self, fresh_client: TestClient, editor: dict[str, str]
    ) -> None:
        for url in ("/v1/admin/exercises", "/v1/admin/exercises/cat-stretch"):
            response = fresh_client.get(url, headers=editor)
            assert response.status_code == 200
            assert response.headers["cache-control"] == "no-store"
            assert "Authorization" in response.headers["vary"]
            assert is_strong(response.headers["etag"])
        refused = fresh_client.get("/v1/admin/exercises")
        assert refused.status_code == 401
        assert refused.headers["cache-control"] == "no-store"
        assert fresh_client.get("/admin/login").headers["cache-control"] == "no-store"

    def test_health_checks_are_never_stored(self, client: TestClient) -> None:
        for url in ("/healthz", "/readyz"):
            assert identity(client, url).headers["cache-control"] == "no-store"

    def test_browsers_get_vary_origin_beside_the_caching_headers(self, client: TestClient) -> None:
        response = identity(client, "/v1/exercises", Origin="https://app.example")
        vary = [token.strip() for token in response.headers["vary"].split(",")]
        assert "Origin" in vary
        assert "Accept-Encoding" in vary
        assert len(vary) == len(set(vary))
        tag = response.headers["etag"]
        again = identity(
            client, "/v1/exercises", Origin="https://app.example", **{"If-None-Match": tag}
        )
        assert again.status_code == 304
        assert again.headers["access-control-allow-origin"] == "*"


class TestIfMatch:
    URL = "/v1/exercises/cat-stretch"

    def patch(self, client: TestClient, editor: dict[str, str], if_match: str) -> httpx2.Response:
        return client.patch(
            self.URL,
            json={"summary": f"Edited under {if_match}."},
            headers={**editor, "If-Match": if_match},
        )

    @pytest.mark.parametrize("sent", ['"1"', '"7", "1"', ' "stale" ,"1"', "*", 'W/"1", "1"'])
    def test_a_list_holding_the_current_strong_tag_or_a_star_matches(
        self, fresh_client: TestClient, editor: dict[str, str], sent: str
    ) -> None:
        response = self.patch(fresh_client, editor, sent)
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"2"'
        assert response.headers["cache-control"] == "no-store"

    @pytest.mark.parametrize("sent", ['"stale"', 'W/"1"', '"2"', '"2", "3"', 'W/"1", W/"2"'])
    def test_a_well_formed_tag_that_does_not_match_is_412(
        self, fresh_client: TestClient, editor: dict[str, str], sent: str
    ) -> None:
        response = self.patch(fresh_client, editor, sent)
        assert response.status_code == 412, response.text
        assert response.headers["content-type"] == PROBLEM
        assert response.headers["cache-control"] == "no-store"
        assert fresh_client.get(self.URL).headers["etag"] == '"1"'

    @pytest.mark.parametrize("sent", ["stale", '"1', "1", '"1" "2"', "W/1", '"1",', '*, "1"'])
    def test_only_a_malformed_header_is_400(
        self, fresh_client: TestClient, editor: dict[str, str], sent: str
    ) -> None:
        response = self.patch(fresh_client, editor, sent)
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["field"] == "If-Match"

    def test_put_and_delete_take_lists_too(
        self, fresh_client: TestClient, editor: dict[str, str]
    ) -> None:
        document = fresh_client.get(self.URL).json()
        document.pop("version")
        document["citations"] = [
            {"source": c["source"], "note": c["note"]} for c in document["citations"]
        ]
        document["summary"] += " Changed."
        replaced = fresh_client.put(
            self.URL, json=document, headers={**editor, "If-Match": '"9", "1"'}
        )
        assert replaced.status_code == 200, replaced.text
        stale = fresh_client.delete(self.URL, headers={**editor, "If-Match": '"1", W/"2"'})
        assert stale.status_code == 412
        retired = fresh_client.delete(self.URL, headers={**editor, "If-Match": "*"})
        assert retired.status_code == 200, retired.text

    def test_a_missing_exercise_is_404_whatever_the_tags(
        self, fresh_client: TestClient, editor: dict[str, str]
    ) -> None:
        for sent in ('"stale"', '"1", "2"', "*"):
            response = fresh_client.patch(
                "/v1/exercises/no-such-exercise", json={}, headers={**editor, "If-Match": sent}
            )
            assert response.status_code == 404, (sent, response.text)


class TestCompression:
    @pytest.fixture
    def compressions(self, monkeypatch: pytest.MonkeyPatch) -> list[int]:
        made: list[int] = []
        compress: Callable[[bytes], bytes] = http_cache.compress

        def counting(body: bytes) -> bytes:
            made.append(len(body))
            return compress(body)

        monkeypatch.setattr(http_cache, "compress", counting)
        return made

    def test_the_list_is_compressed_once_per_snapshot(
        self, fresh_client: TestClient, editor: dict[str, str], compressions: list[int]
    ) -> None:
        plain = identity(fresh_client, LIST)
        assert "content-encoding" not in plain.headers
        assert len(plain.content) > 1024
        with fresh_client.stream("GET", LIST, headers={"Accept-Encoding": "gzip"}) as first:
            raw = b"".join(first.iter_raw())
        assert first.headers["content-encoding"] == "gzip"
        assert "Accept-Encoding" in first.headers["vary"]
        assert first.headers["etag"] == plain.headers["etag"]
        assert int(first.headers["content-length"]) == len(raw) < len(plain.content)
        assert gzip.decompress(raw) == plain.content
        for _ in range(3):
            again = fresh_client.get(LIST, headers={"Accept-Encoding": "gzip"})
            assert again.content == plain.content
        assert compressions == [len(plain.content)]
        fresh_client.patch(
            "/v1/exercises/heel-slides",
            json={"summary": "A new snapshot."},
            headers={**editor, "If-Match": '"1"'},
        )
        assert fresh_client.get(LIST, headers={"Accept-Encoding": "gzip"}).status_code == 200
        assert len(compressions) == 2

    @pytest.mark.parametrize("path", ["/v1/exercises/cat-stretch", "/v1/routines/{id}"])
    def test_details_and_routines_are_compressed_once(
        self, fresh_client: TestClient, compressions: list[int], path: str
    ) -> None:
        routine = fresh_client.post("/v1/routines", json={}).json()
        url = path.format(id=routine["id"])
        bodies = [fresh_client.get(url, headers={"Accept-Encoding": "gzip"}) for _ in range(3)]
        assert {response.headers["content-encoding"] for response in bodies} == {"gzip"}
        assert len({response.content for response in bodies}) == 1
        assert len(compressions) == 1

    def test_small_bodies_and_pdfs_are_sent_as_they_are(
        self, client: TestClient, routine: dict[str, Any]
    ) -> None:
        small = client.get("/v1/exercises?limit=1&q=zzzz", headers={"Accept-Encoding": "gzip"})
        assert len(small.content) < 1024
        assert "content-encoding" not in small.headers
        pdf = client.get(
            f"/v1/routines/{routine['id']}/handout?format=pdf", headers={"Accept-Encoding": "gzip"}
        )
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert "content-encoding" not in pdf.headers
        assert pdf.content.startswith(b"%PDF")

    def test_other_large_answers_are_compressed_per_request(self, client: TestClient) -> None:
        response = client.post("/v1/routines", json={}, headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 201
        assert response.headers["content-encoding"] == "gzip"
        assert response.json()["id"]

    def test_a_body_the_route_compressed_is_not_compressed_again(self, client: TestClient) -> None:
        plain = identity(client, "/v1/catalogue")
        zipped = client.get("/v1/catalogue", headers={"Accept-Encoding": "gzip"})
        assert zipped.headers["content-encoding"] == "gzip"
        assert zipped.content == plain.content
        assert zipped.headers["etag"] == plain.headers["etag"]
        assert zipped.headers["cache-control"] == PUBLIC

    def test_a_304_is_the_same_whatever_the_encoding(self, client: TestClient) -> None:
        tag = identity(client, LIST).headers["etag"]
        response = client.get(LIST, headers={"Accept-Encoding": "gzip", "If-None-Match": tag})
        assert response.status_code == 304
        assert "content-encoding" not in response.headers


class TestOpenApi:
    def test_every_get_declares_its_304_and_caching_headers(self, client: TestClient) -> None:
        document = client.get("/openapi.json").json()
        assert set(document["components"]["headers"]) >= {"ETag", "Cache-Control", "Vary"}
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                responses = operation["responses"]
                for status, response in responses.items():
                    assert "Cache-Control" in response["headers"], (method, path, status)
                if method != "get":
                    continue
                assert "304" in responses, path
                assert "ETag" in responses["200"]["headers"], path
                names = {p["name"].lower() for p in parameters_of(document, operation)}
                assert "if-none-match" in names, path

    def test_edits_declare_if_match(self, client: TestClient) -> None:
        document = client.get("/openapi.json").json()
        for method in ("put", "patch", "delete"):
            operation = document["paths"]["/v1/exercises/{slug}"][method]
            names = {p["name"].lower() for p in parameters_of(document, operation)}
            assert "if-match" in names
