"""Images in a seed directory: files beside their exercise's YAML, listed with their licence in
`<slug>.media.yaml`, and checked as uploads are (the same checks, the stored form kept byte for
byte) before anything is written."""

import shutil
from pathlib import Path

import image_files
import pytest
import yaml
from seeded import SEED_DIR

from app.content.bundle import ContentInvalidError, load_seed_content, write_seed_directory
from app.content.media_files import SEED_IMAGE_LIMITS, prepare_file

ENTRY = {
    "license": "CC-BY-4.0",
    "author": "A. Physio",
    "source_url": "https://commons.example.org/wiki/File:Stretch.jpg",
    "alt": "A person rising onto their toes.",
}


def seed_with(tmp_path: Path, files: dict[str, bytes], sidecar: object) -> Path:
    target = tmp_path / "seed"
    shutil.copytree(SEED_DIR, target)
    exercises = target / "exercises"
    for name, data in files.items():
        (exercises / name).write_bytes(data)
    (exercises / "heel-raises.media.yaml").write_text(yaml.safe_dump(sidecar))
    return target


def problems(directory: Path) -> list[str]:
    with pytest.raises(ContentInvalidError) as refused:
        load_seed_content(directory)
    return [f"{issue.file} {issue.field}: {issue.message}" for issue in refused.value.issues]


def test_a_stored_file_with_its_licence_becomes_the_exercises_record(tmp_path: Path) -> None:
    stored = prepare_file(image_files.jpeg_with_gps(), SEED_IMAGE_LIMITS)
    name = f"heel-raises.{stored.media_id}.jpg"
    content = load_seed_content(seed_with(tmp_path, {name: stored.data}, [{"file": name, **ENTRY}]))
    (exercise,) = [e for e in content.bundle.exercises if e.slug == "heel-raises"]
    (record,) = exercise.media
    assert record.sha256 == stored.sha256
    assert (record.width, record.height, record.byte_size) == (
        stored.width,
        stored.height,
        len(stored.data),
    )
    assert record.model_dump(mode="json", include=set(ENTRY)) == ENTRY
    assert content.files[stored.sha256].data == stored.data
    assert content.files[stored.sha256].thumbnail == stored.thumbnail

    written = tmp_path / "written"
    write_seed_directory(
        written, content.bundle.sources, content.bundle.exercises, lambda s, m: stored.data
    )
    again = load_seed_content(written)
    assert again.bundle == content.bundle
    assert (written / "exercises" / name).read_bytes() == stored.data


def test_files_an_upload_would_refuse_or_re_encode_are_refused_naming_the_entry(
    tmp_path: Path,
) -> None:
    stored = prepare_file(image_files.png((200, 100)), SEED_IMAGE_LIMITS)
    directory = seed_with(
        tmp_path,
        {
            "heel-raises.gps.jpg": image_files.jpeg_with_gps(),
            "heel-raises.text.png": b"not an image at all",
            "heel-raises.ok.png": stored.data,
        },
        [
            {"file": "heel-raises.gps.jpg", **ENTRY},
            {"file": "heel-raises.text.png", **ENTRY},
            {"file": "heel-raises.missing.png", **ENTRY},
            {"file": "../sources.yaml", **ENTRY},
            {"file": "heel-raises.ok.png", **ENTRY, "license": "GPL-3.0"},
            {"file": "heel-raises.ok.png", **{k: v for k, v in ENTRY.items() if k != "alt"}},
        ],
    )
    found = problems(directory)
    sidecar = "exercises/heel-raises.media.yaml"
    assert any(p.startswith(f"{sidecar} media.0.file") and "metadata" in p for p in found)
    assert any(p.startswith(f"{sidecar} media.1.file") for p in found)
    assert any(p.startswith(f"{sidecar} media.2.file") and "missing" in p for p in found)
    assert any(p.startswith(f"{sidecar} media.3.file") for p in found)
    assert any(p.startswith(f"{sidecar} media.4.license") for p in found)
    assert any(p.startswith(f"{sidecar} media.5.alt") for p in found)


def test_media_written_into_the_exercise_yaml_is_refused(tmp_path: Path) -> None:
    directory = seed_with(tmp_path, {}, [])
    path = directory / "exercises" / "heel-raises.yaml"
    document = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump({**document, "media": []}))
    assert any("heel-raises.yaml media: images are listed in" in p for p in problems(directory))
