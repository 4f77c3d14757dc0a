"""`python -m app export --to DIR` writes the live catalogue in the seed format: an editor's change
gets back into seed/, and seeding what was exported finds nothing to do."""

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from app.cli import seed_database
from app.content.bundle import load_seed_directory
from app.core.security import Role
from app.core.settings import Settings
from app.main import create_app

PROJECT = Path(__file__).resolve().parents[1]


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
