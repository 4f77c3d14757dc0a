"""The contract as a TypeScript integrator uses it: types generated from the committed
openapi/openapi.json by openapi-typescript, calls made through openapi-fetch (both pinned in
tests/typescript/package-lock.json, installed here with `npm ci`), the scenario type-checked by
`tsc --strict` with no cast and no `any`, then played by node against a real server on each store
(tests/typescript/scenario.ts). Skipped, saying why, where node or npm is missing."""

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from app.core.security import Role

PROJECT = Path(__file__).resolve().parents[2]
FOLDER = PROJECT / "tests" / "typescript"
CONTRACT = PROJECT / "openapi" / "openapi.json"
SCENARIO = FOLDER / "scenario.ts"
NODE = shutil.which("node")
NPM = shutil.which("npm")

pytestmark = pytest.mark.skipif(
    NODE is None or NPM is None,
    reason="node and npm are needed for the TypeScript client (Node 20 or later)",
)


def run(*command: str, timeout: float = 600, **environment: str) -> str:
    done = subprocess.run(
        command,
        cwd=FOLDER,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **environment},
        check=False,
    )
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="session")
def built_scenario() -> Path:
    """Install the pinned tools, generate the types from the contract, type-check and compile."""
    assert NPM is not None
    run(NPM, "ci", "--no-audit", "--no-fund", "--loglevel=error")
    bin_dir = FOLDER / "node_modules" / ".bin"
    run(str(bin_dir / "openapi-typescript"), str(CONTRACT), "-o", "generated/schema.d.ts")
    run(str(bin_dir / "tsc"), "--strict", "-p", ".")
    return FOLDER / "build" / "scenario.js"


def test_the_scenario_has_no_cast_and_no_any() -> None:
    source = SCENARIO.read_text()
    code = re.sub(r"//.*|/\*.*?\*/", "", source, flags=re.DOTALL)
    assert not re.search(r"\bas\s+(?!const\b)[A-Za-z{\[(]", code), "a cast"
    assert not re.search(r"\bany\b", code), "an any"
    assert "@ts-" not in code, "a suppressed error"
    assert not re.search(r"\w!\s*[.)\[;,]", code), "a non-null assertion"


def test_a_typescript_client_plays_an_integrators_scenario(
    built_scenario: Path,
    live_server: str,
    fresh_database_url: str,
    issue_key: Callable[[str, str, Role], dict[str, str]],
) -> None:
    assert NODE is not None
    editor = issue_key(fresh_database_url, "typescript-editor", Role.editor)
    key = editor["Authorization"].removeprefix("Bearer ")
    output = run(NODE, str(built_scenario), timeout=300, BASE_URL=live_server, EDITOR_KEY=key)
    assert "scenario passed" in output
