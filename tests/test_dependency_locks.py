"""requirements/*.lock pin every dependency pyproject.toml names, at a version it allows: CI and the
image install through them, so a dependency added without re-locking (`scripts/lock`) fails here."""

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PROJECT = Path(__file__).resolve().parents[1]


def pins(lockfile: str) -> dict[str, str]:
    lines = (PROJECT / "requirements" / lockfile).read_text().splitlines()
    pairs = (line.split("#")[0].strip().split("==") for line in lines if "==" in line)
    return {canonicalize_name(name): version for name, version in pairs}


def declared(extra: str | None) -> list[Requirement]:
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    names = list(project["dependencies"])
    if extra:
        names += project["optional-dependencies"][extra]
    return [Requirement(name) for name in names]


@pytest.mark.parametrize(("lockfile", "extra"), [("app.lock", None), ("test.lock", "test")])
def test_every_declared_dependency_is_pinned_within_its_range(
    lockfile: str, extra: str | None
) -> None:
    pinned = pins(lockfile)
    for requirement in declared(extra):
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{name} is not in requirements/{lockfile}: run scripts/lock"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"requirements/{lockfile} pins {name}=={pinned[name]} outside {requirement.specifier}"
        )
