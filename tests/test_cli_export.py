"""`python -m app export --to DIR` writes the live catalogue in the seed format: an editor's change
gets back into seed/, and seeding what was exported finds nothing to do."""

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import image_files
import yaml
from fastapi.testclient import TestClient

from app.cli import seed_database
from app.content.bundle import load_seed_directory
from app.core.security import Role
from app.core.settings import Settings
from app.db.migrations import upgrade
from app.main import create_app

PROJECT = Path(__file__).resolve().parents[1]
ATTRIBUTION = {
    "author": "A. Physio",
    "source_url": "https://commons.example.org/wiki/File:Stretch.jpg",
}


def export(url: str, directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "export", "--to", str(directory)],
        cwd=PROJECT,
        env={"DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_export_of_the_seeded_catalogue_is_seed(database_url: str, tmp_path: Path) -> None:
    exported = export(database_url, tmp_path / "seed")
    assert exported.returncode == 0, exported.stderr
    written, shipped = load_seed_directory(tmp_path / "seed"), load_seed_directory(PROJECT / "seed")
    assert {e.slug: e for e in written.exercises} == {e.slug: e for e in shipped.exercises}
    assert {s.id: s for s in written.sources} == {s.id: s for s in shipped.sources}
    names = sorted(path.name for path in (tmp_path / "seed" / "exercises").iterdir())
    assert names == sorted(path.name for path in (PROJECT / "seed" / "exercises").iterdir())


def test_an_edit_round_trips_through_export_and_seed(
    fresh_database_url: str,
    tmp_path: Path,
    seed_exercise_count: int,
    issue_key: Callable[..., dict[str, str]],
) -> None:
    headers = issue_key(fresh_database_url, "editor-key", Role.editor)
    with TestClient(create_app(Settings(database_url=fresh_database_url))) as client:
        version = client.get("/v1/admin/exercises/heel-raises", headers=headers).headers["etag"]
        edited = client.patch(
            "/v1/exercises/heel-raises",
            json={"aliases": ["calf raises"]},
            headers={**headers, "If-Match": version},
        )
        assert edited.status_code == 200

    exported = export(fresh_database_url, tmp_path / "seed")
    assert exported.returncode == 0, exported.stderr
    assert f"exported {seed_exercise_count} exercises" in exported.stdout
    document = yaml.safe_load((tmp_path / "seed" / "exercises" / "heel-raises.yaml").read_text())
    assert document["aliases"] == ["calf raises"]

    report = seed_database(fresh_database_url, tmp_path / "seed")
    assert len(report.unchanged) == seed_exercise_count
    assert report.kept == {}
    assert report.revision is None
    # The exported version is now what heel raises was seeded from: the original seed file is
    # a seed change that reaches it again.
    back = seed_database(fresh_database_url, PROJECT / "seed")
    assert back.updated == ["heel-raises"]


def test_images_round_trip_byte_for_byte_through_export_and_seed(
    fresh_database_url: str,
    empty_database_url: str,
    tmp_path: Path,
    seed_exercise_count: int,
    issue_key: Callable[..., dict[str, str]],
) -> None:
    """Images attached through the API are exported beside their exercise's YAML with a licence
    sidecar, and seeding that directory into an empty database gives the same records, files
    and thumbnails, byte for byte."""
    headers = issue_key(fresh_database_url, "editor-key", Role.editor)
    attached = [
        ("heel-raises", image_files.jpeg_with_gps(), "CC-BY-4.0"),
        ("heel-raises", image_files.png((300, 200)), "CC0-1.0"),
        ("ankle-pumps", image_files.webp(), "CC-BY-SA-4.0"),
    ]
    settings = Settings(database_url=fresh_database_url)
    with TestClient(create_app(settings)) as client:
        for slug, data, licence in attached:
            fields = {**ATTRIBUTION, "license": licence, "alt": f"An image of {slug}."}
            files = {"file": ("photo", data, "application/octet-stream")}
            response = client.post(
                f"/v1/exercises/{slug}/media", data=fields, files=files, headers=headers
            )
            assert response.status_code == 201, response.text
        before = served_media(client, ["heel-raises", "ankle-pumps"])

    exported = export(fresh_database_url, tmp_path / "seed")
    assert exported.returncode == 0, exported.stderr
    exercises = tmp_path / "seed" / "exercises"
    assert "media" not in yaml.safe_load((exercises / "heel-raises.yaml").read_text())
    sidecar = yaml.safe_load((exercises / "heel-raises.media.yaml").read_text())
    records = before["heel-raises"][0]
    assert [entry["license"] for entry in sidecar] == ["CC-BY-4.0", "CC0-1.0"]
    for entry, record in zip(sidecar, records, strict=True):
        assert entry == {
            "file": f"heel-raises.{record['id']}.{record['url'].rsplit('.', 1)[1]}",
            **{key: record[key] for key in ("license", "author", "source_url", "alt")},
        }
        assert (exercises / entry["file"]).read_bytes() == before["heel-raises"][1][record["id"]]

    upgrade(empty_database_url)
    report = seed_database(empty_database_url, tmp_path / "seed")
    assert len(report.created) == seed_exercise_count
    with TestClient(create_app(Settings(database_url=empty_database_url))) as client:
        after = served_media(client, ["heel-raises", "ankle-pumps"])
    assert after == before
    again = seed_database(empty_database_url, tmp_path / "seed")
    assert len(again.unchanged) == seed_exercise_count


def served_media(
    client: TestClient, slugs: list[str]
) -> dict[str, tuple[list[dict[str, Any]], dict[str, bytes]]]:
    """Each exercise's image records, and each file's and thumbnail's bytes by id, as served."""
    served = {}
    for slug in slugs:
        listing = client.get(f"/v1/exercises/{slug}/media")
        assert listing.status_code == 200, listing.text
        records = listing.json()["items"]
        files = {}
        for record in records:
            for url, key in (
                (record["url"], record["id"]),
                (record["thumbnail_url"], f"{record['id']}-thumbnail"),
            ):
                response = client.get(url)
                assert response.status_code == 200, url
                files[key] = response.content
        served[slug] = (records, files)
    return served
