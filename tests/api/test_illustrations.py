"""An exercise's pictures through HTTP: the list, SVG and PNG at both scales, immutable URLs that
carry the exercise's version, conditional GETs, and the URLs in the exercise's documents."""

import io
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from PIL import Image
from seeded import SEED_DIR

from app.core.security import Role

PROBLEM = "application/problem+json"
IMMUTABLE = "public, max-age=31536000, immutable"


def seeded_frames(slug: str) -> list[dict[str, Any]]:
    document = yaml.safe_load((SEED_DIR / "exercises" / f"{slug}.yaml").read_text())
    frames: list[dict[str, Any]] = document["figure"]["frames"]
    return frames


def test_the_list_names_each_frame_with_its_step_alt_text_and_urls(client: TestClient) -> None:
    response = client.get("/v1/exercises/cat-stretch/illustrations")
    assert response.status_code == 200
    body = response.json()
    version = body["version"]
    assert response.headers["etag"] == f'"{version}"'
    frames = seeded_frames("cat-stretch")
    assert [item["frame"] for item in body["items"]] == [frame["name"] for frame in frames]
    assert [item["step"] for item in body["items"]] == [frame["step"] for frame in frames]
    first = body["items"][0]
    assert first["alt"].startswith("Cat stretch: start. Step 1: Kneel on the floor")
    assert first["svg_url"] == f"/v1/exercises/cat-stretch/illustrations/start.svg?v={version}"
    assert first["png_2x_url"].endswith(f"/start@2x.png?v={version}")
    again = client.get(
        "/v1/exercises/cat-stretch/illustrations", headers={"If-None-Match": f'"{version}"'}
    )
    assert again.status_code == 304


def test_the_exercise_list_and_detail_carry_the_same_urls(client: TestClient) -> None:
    listing = client.get("/v1/exercises/prone-back-extension/illustrations").json()["items"]
    detail = client.get("/v1/exercises/prone-back-extension").json()
    assert detail["illustrations"] == listing
    assert detail["figure"]["frames"][0]["name"] == "start"
    summaries = client.get("/v1/exercises", params={"limit": 100}).json()["items"]
    summary = next(item for item in summaries if item["slug"] == "prone-back-extension")
    assert summary["illustrations"] == listing
    assert all(len(item["illustrations"]) >= 2 for item in summaries)


def test_an_svg_url_is_immutable_and_revalidates_with_its_etag(client: TestClient) -> None:
    url = client.get("/v1/exercises/cat-stretch/illustrations").json()["items"][1]["svg_url"]
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.headers["cache-control"] == IMMUTABLE
    assert response.text.startswith("<svg")
    assert '<title id="t">Cat stretch: end</title>' in response.text
    tag = response.headers["etag"]
    again = client.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.headers["cache-control"] == IMMUTABLE


def test_without_a_version_the_picture_is_revalidated_like_the_exercise(
    client: TestClient,
) -> None:
    response = client.get("/v1/exercises/cat-stretch/illustrations/start.svg")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=0, must-revalidate"


@pytest.mark.parametrize(("suffix", "width"), [(".png", 320), ("@2x.png", 640)])
def test_png_comes_at_one_and_two_times_the_size(
    client: TestClient, suffix: str, width: int
) -> None:
    version = client.get("/v1/exercises/wall-squat").json()["version"]
    response = client.get(f"/v1/exercises/wall-squat/illustrations/end{suffix}?v={version}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == IMMUTABLE
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG"
    assert image.width == width
    assert (
        client.get(
            f"/v1/exercises/wall-squat/illustrations/end{suffix}?v={version}",
            headers={"If-None-Match": response.headers["etag"]},
        ).status_code
        == 304
    )


def test_an_unknown_version_frame_or_exercise_is_a_404(client: TestClient) -> None:
    version = client.get("/v1/exercises/cat-stretch").json()["version"]
    for url in (
        f"/v1/exercises/cat-stretch/illustrations/start.svg?v={version + 1}",
        "/v1/exercises/cat-stretch/illustrations/middle.svg",
        "/v1/exercises/no-such-thing/illustrations/start.png",
        "/v1/exercises/no-such-thing/illustrations",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.headers["content-type"] == PROBLEM
        assert response.headers["cache-control"] == "no-store"


def test_bad_parameters_and_accept_are_refused(client: TestClient) -> None:
    base = "/v1/exercises/cat-stretch/illustrations/start"
    unknown = client.get(f"{base}.svg", params={"size": "2"})
    assert unknown.status_code == 400
    assert client.get(f"{base}.svg", params={"v": "two"}).status_code == 422
    refused = client.get(f"{base}.png", headers={"Accept": "text/html"})
    assert refused.status_code == 406
    assert client.get(f"{base}.png", headers={"Accept": "image/*"}).status_code == 200


def test_an_edit_gives_new_urls_and_the_old_ones_keep_their_picture(
    fresh_database_url: str,
    fresh_client: TestClient,
    issue_key: Callable[[str, str, Role], dict[str, str]],
) -> None:
    headers = issue_key(fresh_database_url, "illustrator", Role.editor)
    old = fresh_client.get("/v1/exercises/heel-raises")
    old_url = old.json()["illustrations"][0]["svg_url"]
    old_svg = fresh_client.get(old_url).text
    patched = fresh_client.patch(
        "/v1/exercises/heel-raises",
        json={"summary": "Rise onto your toes and lower again, slowly."},
        headers={
            **headers,
            "If-Match": old.headers["etag"],
            "Content-Type": "application/merge-patch+json",
        },
    )
    assert patched.status_code == 200, patched.text
    new_url = fresh_client.get("/v1/exercises/heel-raises").json()["illustrations"][0]["svg_url"]
    assert new_url != old_url
    assert fresh_client.get(new_url).status_code == 200
    kept = fresh_client.get(old_url)
    assert kept.status_code == 200
    assert kept.headers["cache-control"] == IMMUTABLE
    assert kept.text == old_svg
