"""An import racing an edit of the same exercise: neither is ever silently lost.

Each trial starts an import (the whole catalogue, one exercise changed) and a PATCH of that
exercise at the same moment. Whatever the interleaving, either one of them is refused (the import
with 409, the PATCH with 412) or both are applied one after the other, and the audit trail, the
stored row and both answers agree on that order."""

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.security import Role

SLUG = "heel-raises"
TRIALS = 25


@pytest.fixture
def keys(
    fresh_database_url: str, issue_key: Callable[..., dict[str, str]]
) -> dict[str, dict[str, str]]:
    return {role.value: issue_key(fresh_database_url, role.value, role) for role in Role}


def audit_since(client: TestClient, admin: dict[str, str], after_id: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get(
        "/v1/admin/audit", params={"exercise": SLUG, "limit": 100}, headers=admin
    ).json()["items"]
    return sorted((item for item in items if item["id"] > after_id), key=lambda item: item["id"])


def race(
    client: TestClient,
    keys: dict[str, dict[str, str]],
    bundle: dict[str, Any],
    patch: dict[str, Any],
    version: str,
) -> tuple[Any, Any]:
    """Send the import and the PATCH at the same moment from two threads."""
    barrier = threading.Barrier(2)
    answers: dict[str, Any] = {}

    def run_import() -> None:
        barrier.wait()
        answers["import"] = client.post("/v1/admin/import", json=bundle, headers=keys["admin"])

    def run_patch() -> None:
        barrier.wait()
        answers["patch"] = client.patch(
            f"/v1/exercises/{SLUG}", json=patch, headers={**keys["editor"], "If-Match": version}
        )

    threads = [threading.Thread(target=run_import), threading.Thread(target=run_patch)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers["import"], answers["patch"]


def test_an_import_and_a_patch_racing_never_lose_each_other(
    fresh_client: TestClient,
    keys: dict[str, dict[str, str]],
) -> None:
    admin, editor = keys["admin"], keys["editor"]
    outcomes: Counter[tuple[int, int]] = Counter()
    for trial in range(TRIALS):
        bundle = fresh_client.get("/v1/admin/export", headers=admin).json()
        [before] = [e for e in bundle["exercises"] if e["slug"] == SLUG]
        imported = {**before, "aliases": [f"imported in trial {trial}"]}
        bundle["exercises"] = [imported if e["slug"] == SLUG else e for e in bundle["exercises"]]
        patch = {"aliases": [f"patched in trial {trial}"]}
        version = fresh_client.get(f"/v1/admin/exercises/{SLUG}", headers=editor).headers["etag"]
        known = audit_since(fresh_client, admin, 0)
        last_id = known[-1]["id"] if known else 0

        by_import, by_patch = race(fresh_client, keys, bundle, patch, version)

        assert by_import.status_code in (200, 409), by_import.text
        assert by_patch.status_code in (200, 412), by_patch.text
        outcomes[by_import.status_code, by_patch.status_code] += 1
        stored = fresh_client.get(f"/v1/admin/exercises/{SLUG}", headers=editor)
        entries = audit_since(fresh_client, admin, last_id)
        applied = [("import", imported["aliases"])] if by_import.status_code == 200 else []
        if by_patch.status_code == 200:
            assert by_patch.json()["aliases"] == patch["aliases"]
            applied.append(("patch", patch["aliases"]))
        if by_import.status_code == 200:
            assert SLUG in by_import.json()["updated"], by_import.json()
        else:
            assert SLUG in by_import.json()["detail"]
        # The audit trail is one chain from the version before the race to the stored one.
        assert len(entries) == len(applied), (entries, applied)
        document = before
        for entry in entries:
            assert entry["before"] == document
            document = entry["after"]
        stored_version = int(stored.headers["etag"].strip('"'))
        assert stored_version == int(version.strip('"')) + len(applied)
        assert stored.json()["aliases"] == document["aliases"]
        assert sorted(a for _who, a in applied) == sorted(e["after"]["aliases"] for e in entries)
    print(f"import/patch outcomes over {TRIALS} trials: {dict(outcomes)}")
