"""seed/ ships content; the database is the live catalogue. `seed` creates what is missing and
updates only what nobody edited since it was last seeded; editors' work survives every restart."""

import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from fastapi.testclient import TestClient
from pydantic import Field
from sqlmodel import Session, col, select

from app.cli import seed_database
from app.content import bundle as bundle_module
from app.content import seeding
from app.core.security import Role
from app.core.settings import Settings
from app.db.models import AuditEntryRow, ExerciseRow
from app.db.session import build_engine
from app.domain.exercise import Exercise
from app.main import create_app

PROJECT = Path(__file__).resolve().parents[2]
SEED_DIR = PROJECT / "seed"
SLUG = "heel-raises"


@pytest.fixture
def editor(
    fresh_database_url: str, issue_key: Callable[..., dict[str, str]]
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    headers = issue_key(fresh_database_url, "editor-key", Role.editor)
    with TestClient(create_app(Settings(database_url=fresh_database_url))) as client:
        yield client, headers


def patch(client: TestClient, headers: dict[str, str], changes: dict[str, Any]) -> None:
    version = client.get(f"/v1/admin/exercises/{SLUG}", headers=headers).headers["etag"]
    response = client.patch(
        f"/v1/exercises/{SLUG}", json=changes, headers={**headers, "If-Match": version}
    )
    assert response.status_code == 200, response.text


def served_at_version(client: TestClient, slug: str, expected: int) -> dict[str, Any]:
    """The public read once this process's snapshot caught up with the database's revision.

    Another process (the CLI) wrote it; the refresher picks it up within an interval, later on a
    loaded machine, so this waits for the version rather than for a time."""
    give_up = time.monotonic() + 30
    while True:
        detail: dict[str, Any] = client.get(f"/v1/exercises/{slug}").json()
        if detail["version"] == expected or time.monotonic() > give_up:
            return detail
        time.sleep(0.02)


def rows(url: str) -> dict[str, tuple[int, dict[str, Any]]]:
    engine = build_engine(url)
    with Session(engine) as session:
        found = {r.slug: (r.version, r.document) for r in session.exec(select(ExerciseRow))}
    engine.dispose()
    return found


def seed_hashes(url: str) -> dict[str, str | None]:
    engine = build_engine(url)
    with Session(engine) as session:
        found = {r.slug: r.seed_hash for r in session.exec(select(ExerciseRow))}
    engine.dispose()
    return found


def audit_count(url: str) -> int:
    engine = build_engine(url)
    with Session(engine) as session:
        count = session.execute(sa.select(sa.func.count(col(AuditEntryRow.id)))).scalar_one()
    engine.dispose()
    return int(count)


def copy_seed(tmp_path: Path) -> Path:
    target = tmp_path / "seed"
    shutil.copytree(SEED_DIR, target)
    return target


def edit_file(seed: Path, slug: str, **changes: Any) -> None:
    path = seed / "exercises" / f"{slug}.yaml"
    document = yaml.safe_load(path.read_text())
    document.update(changes)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def run_cli(url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *arguments],
        cwd=PROJECT,
        env={"DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_an_edit_survives_seed_and_is_reported(
    editor: tuple[TestClient, dict[str, str]], fresh_database_url: str, seed_exercise_count: int
) -> None:
    client, headers = editor
    patch(client, headers, {"aliases": ["calf raises", "toe raises"]})
    before, audited = rows(fresh_database_url), audit_count(fresh_database_url)

    seeded = run_cli(fresh_database_url, "seed")

    assert seeded.returncode == 0, seeded.stderr
    assert f"unchanged {seed_exercise_count - 1}" in seeded.stdout
    assert f"kept 1: edited since seeded ({SLUG})" in seeded.stdout
    assert rows(fresh_database_url) == before
    assert audit_count(fresh_database_url) == audited
    assert client.get(f"/v1/exercises/{SLUG}").json()["aliases"] == ["calf raises", "toe raises"]


def test_a_changed_seed_file_reaches_unedited_exercises_only(
    editor: tuple[TestClient, dict[str, str]], fresh_database_url: str, tmp_path: Path
) -> None:
    client, headers = editor
    patch(client, headers, {"aliases": ["calf raises"]})
    seed = copy_seed(tmp_path)
    edit_file(seed, SLUG, name="Heel raises, from the seed")
    edit_file(seed, "cat-stretch", name="Cat stretch, from the seed")
    before = rows(fresh_database_url)

    report = seed_database(fresh_database_url, seed)

    assert report.updated == ["cat-stretch"]
    assert report.kept == {seeding.Outcome.kept_edited: [SLUG]}
    after = rows(fresh_database_url)
    assert after[SLUG] == before[SLUG]
    assert after["cat-stretch"][0] == before["cat-stretch"][0] + 1
    assert after["cat-stretch"][1]["name"] == "Cat stretch, from the seed"
    # Seeding the same files again is a no-op: the update was recorded as seeded.
    again = seed_database(fresh_database_url, seed)
    assert again.updated == []
    assert again.revision is None


def test_overwrite_takes_the_file_on_purpose_and_audits_it(
    editor: tuple[TestClient, dict[str, str]],
    fresh_database_url: str,
    issue_key: Callable[..., dict[str, str]],
) -> None:
    client, headers = editor
    patch(client, headers, {"aliases": ["calf raises"]})
    version = rows(fresh_database_url)[SLUG][0]
    audited = audit_count(fresh_database_url)

    overwritten = run_cli(fresh_database_url, "seed", "--overwrite", SLUG)

    assert overwritten.returncode == 0, overwritten.stderr
    assert "overwritten 1" in overwritten.stdout
    assert "kept" not in overwritten.stdout
    assert rows(fresh_database_url)[SLUG][0] == version + 1
    assert served_at_version(client, SLUG, version + 1)["aliases"] == []
    assert audit_count(fresh_database_url) == audited + 1
    admin = issue_key(fresh_database_url, "auditor", Role.admin)
    [entry] = client.get(
        "/v1/admin/audit", params={"exercise": SLUG, "limit": 1}, headers=admin
    ).json()["items"]
    assert (entry["actor"], entry["action"]) == (seeding.SEED_ACTOR, "overwrite")
    assert entry["before"]["aliases"] == ["calf raises"]
    # From now on the exercise counts as seeded again: a later seed finds nothing to do.
    assert "created 0, updated 0" in run_cli(fresh_database_url, "seed").stdout


def test_overwrite_of_an_unknown_slug_writes_nothing(fresh_database_url: str) -> None:
    before = rows(fresh_database_url)
    refused = run_cli(fresh_database_url, "seed", "--overwrite", "no-such-exercise")
    assert refused.returncode == 1
    assert "no-such-exercise" in refused.stderr
    assert rows(fresh_database_url) == before


def test_a_retired_exercise_is_never_brought_back(
    editor: tuple[TestClient, dict[str, str]], fresh_database_url: str, tmp_path: Path
) -> None:
    client, headers = editor
    version = client.get(f"/v1/admin/exercises/{SLUG}", headers=headers).headers["etag"]
    retired = client.delete(f"/v1/exercises/{SLUG}", headers={**headers, "If-Match": version})
    assert retired.status_code == 200
    seed = copy_seed(tmp_path)
    edit_file(seed, SLUG, name="Heel raises, revised")

    for overwrite in ((), (SLUG,)):
        report = seed_database(fresh_database_url, seed, overwrite)
        assert report.kept == {seeding.Outcome.kept_retired: [SLUG]}
        assert rows(fresh_database_url)[SLUG][1]["status"] == "retired"
        assert client.get(f"/v1/exercises/{SLUG}").status_code == 404


class ExerciseWithBreathCues(Exercise):
    """The exercise model as a later version of the code might have it: one more optional field."""

    breath_cues: list[str] = Field(default_factory=list)


def test_a_new_optional_field_changes_nothing(
    editor: tuple[TestClient, dict[str, str]],
    fresh_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    seed_exercise_count: int,
    tmp_path: Path,
) -> None:
    client, headers = editor
    patch(client, headers, {"aliases": ["calf raises"]})
    before, audited = rows(fresh_database_url), audit_count(fresh_database_url)
    hashes = seed_hashes(fresh_database_url)
    monkeypatch.setattr(bundle_module, "Exercise", ExerciseWithBreathCues)
    monkeypatch.setattr(seeding, "Exercise", ExerciseWithBreathCues)

    report = seed_database(fresh_database_url, SEED_DIR)

    assert len(report.unchanged) == seed_exercise_count - 1
    assert report.kept == {seeding.Outcome.kept_edited: [SLUG]}
    assert report.revision is None
    assert rows(fresh_database_url) == before
    assert audit_count(fresh_database_url) == audited
    assert seed_hashes(fresh_database_url) == hashes
    # Unedited exercises are still recognised as seeded under the new model.
    seed = copy_seed(tmp_path)
    edit_file(seed, "cat-stretch", name="Cat stretch, revised")
    later = seed_database(fresh_database_url, seed)
    assert later.updated == ["cat-stretch"]
    assert later.kept == {seeding.Outcome.kept_edited: [SLUG]}


def test_a_document_from_newer_code_is_kept(fresh_database_url: str) -> None:
    engine = build_engine(fresh_database_url)
    with Session(engine) as session, session.begin():
        row = session.exec(select(ExerciseRow).where(col(ExerciseRow.slug) == SLUG)).one()
        row.document = {**row.document, "breath_cues": ["exhale as you rise"]}
        session.add(row)
    engine.dispose()
    before = rows(fresh_database_url)

    report = seed_database(fresh_database_url, SEED_DIR)

    assert report.kept == {seeding.Outcome.kept_unreadable: [SLUG]}
    assert rows(fresh_database_url) == before


def test_rows_seeded_before_seed_hashes_were_kept(
    editor: tuple[TestClient, dict[str, str]], fresh_database_url: str, tmp_path: Path
) -> None:
    """After the migration that adds seed_hash, the audit trail tells seeded rows from edited."""
    client, headers = editor
    patch(client, headers, {"aliases": ["calf raises"]})
    engine = build_engine(fresh_database_url)
    with Session(engine) as session, session.begin():
        session.execute(sa.update(ExerciseRow).values(seed_hash=None))
    engine.dispose()
    seed = copy_seed(tmp_path)
    edit_file(seed, SLUG, name="Heel raises, revised")
    edit_file(seed, "cat-stretch", name="Cat stretch, revised")

    report = seed_database(fresh_database_url, seed)

    assert report.updated == ["cat-stretch"]
    assert report.kept == {seeding.Outcome.kept_edited: [SLUG]}
