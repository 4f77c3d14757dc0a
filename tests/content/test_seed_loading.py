"""`python -m app seed`: idempotent, reports what it did, refuses invalid content whole."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from seeded import SEED_DIR
from sqlmodel import Session, select

from app.cli import seed_database
from app.content.bundle import ContentInvalidError, load_seed_directory
from app.db.models import ExerciseRow
from app.db.session import build_engine

PROJECT = SEED_DIR.parent
SEED_EXERCISE_COUNT = len(
    [p for p in (SEED_DIR / "exercises").glob("*.yaml") if not p.name.endswith(".media.yaml")]
)


def versions(url: str) -> dict[str, int]:
    engine = build_engine(url)
    with Session(engine) as session:
        result = {row.slug: row.version for row in session.exec(select(ExerciseRow)).all()}
    engine.dispose()
    return result


def copy_seed(tmp_path: Path) -> Path:
    target = tmp_path / "seed"
    shutil.copytree(SEED_DIR, target)
    return target


def edit(path: Path, **changes: object) -> None:
    document = yaml.safe_load(path.read_text())
    document.update(changes)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def test_second_seed_changes_nothing(fresh_database_url: str) -> None:
    before = versions(fresh_database_url)
    report = seed_database(fresh_database_url, SEED_DIR)
    assert report.counts() == {
        **dict.fromkeys(["created", "updated", "overwritten"], 0),
        **dict.fromkeys(["kept_edited", "kept_retired", "kept_unreadable"], 0),
        "unchanged": SEED_EXERCISE_COUNT,
    }
    assert report.revision is None
    assert versions(fresh_database_url) == before


def test_seed_reports_created_updated_unchanged(fresh_database_url: str, tmp_path: Path) -> None:
    seed = copy_seed(tmp_path)
    edit(seed / "exercises" / "cat-stretch.yaml", name="Cat stretch (arched back)")
    new = yaml.safe_load((seed / "exercises" / "heel-raises.yaml").read_text())
    new.update(slug="heel-raises-slow", name="Slow heel raises", progressions={})
    (seed / "exercises" / "heel-raises-slow.yaml").write_text(yaml.safe_dump(new))
    report = seed_database(fresh_database_url, seed)
    assert report.created == ["heel-raises-slow"]
    assert report.updated == ["cat-stretch"]
    assert len(report.unchanged) == 26
    assert versions(fresh_database_url)["cat-stretch"] == 2


def test_invalid_content_names_file_entry_and_field_and_writes_nothing(
    fresh_database_url: str, tmp_path: Path
) -> None:
    seed = copy_seed(tmp_path)
    edit(seed / "exercises" / "cat-stretch.yaml", name="Renamed, but must not be written")
    edit(seed / "exercises" / "wall-squat.yaml", level="superhuman")
    before = versions(fresh_database_url)
    with pytest.raises(ContentInvalidError) as caught:
        seed_database(fresh_database_url, seed)
    [issue] = caught.value.issues
    assert (issue.file, issue.entry, issue.field) == (
        "exercises/wall-squat.yaml",
        "wall-squat",
        "level",
    )
    assert versions(fresh_database_url) == before


@pytest.mark.parametrize(
    ("file", "changes", "field"),
    [
        ("cat-stretch.yaml", {"contraindications": []}, "(entry)"),
        (
            "cat-stretch.yaml",
            {"progressions": {"harder": ["no-such-exercise"]}},
            "progressions.harder.0",
        ),
        ("cat-stretch.yaml", {"citations": [{"source": "no-such-source"}]}, "citations.0.source"),
        ("cat-stretch.yaml", {"target_areas": ["elbows"]}, "target_areas.0"),
        ("cat-stretch.yaml", {"surprise": True}, "surprise"),
        (
            "double-knee-to-chest.yaml",
            {
                "progressions": {
                    "easier": ["single-knee-to-chest"],
                    "harder": ["single-knee-to-chest"],
                }
            },
            "progressions",
        ),
    ],
)
def test_each_rule_is_enforced(
    tmp_path: Path, file: str, changes: dict[str, object], field: str
) -> None:
    seed = copy_seed(tmp_path)
    edit(seed / "exercises" / file, **changes)
    with pytest.raises(ContentInvalidError) as caught:
        load_seed_directory(seed)
    assert field in [issue.field for issue in caught.value.issues], caught.value.issues


def test_a_source_listed_twice_is_refused_as_an_import_refuses_it(tmp_path: Path) -> None:
    seed = copy_seed(tmp_path)
    sources_file = seed / "sources.yaml"
    sources = yaml.safe_load(sources_file.read_text())
    sources_file.write_text(yaml.safe_dump([*sources, dict(sources[0])], sort_keys=False))
    with pytest.raises(ContentInvalidError) as caught:
        load_seed_directory(seed)
    [issue] = caught.value.issues
    assert (issue.file, issue.entry, issue.field) == ("sources.yaml", sources[0]["id"], "id")
    assert issue.message == "appears twice in the bundle"


def test_cli_seed_reports_and_refuses(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    environment = {"DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
    run = [sys.executable, "-m", "app"]
    migrate = subprocess.run(
        [*run, "migrate"], cwd=PROJECT, env=environment, capture_output=True, text=True, check=False
    )
    assert migrate.returncode == 0, migrate.stderr
    first = subprocess.run(
        [*run, "seed"], cwd=PROJECT, env=environment, capture_output=True, text=True, check=False
    )
    assert f"created {SEED_EXERCISE_COUNT}, updated 0, unchanged 0" in first.stdout
    second = subprocess.run(
        [*run, "seed"], cwd=PROJECT, env=environment, capture_output=True, text=True, check=False
    )
    assert f"created 0, updated 0, unchanged {SEED_EXERCISE_COUNT}" in second.stdout
    seed = copy_seed(tmp_path)
    edit(seed / "exercises" / "wall-squat.yaml", level="superhuman")
    refused = subprocess.run(
        [*run, "seed", "--dir", str(seed)],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 1
    assert "exercises/wall-squat.yaml: entry 'wall-squat': field 'level'" in refused.stderr
