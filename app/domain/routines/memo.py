"""Memoised routine generation: the engine is a pure function of (catalogue revision, profile,
seed), so a result can be reused for as long as the catalogue stays at that revision."""

from typing import Any

from app.core.lru import LruCache
from app.domain.catalogue import Catalogue
from app.domain.routines.engine import generate_routine
from app.domain.routines.profile import Profile

PLAN_CACHE_SIZE = 256

PlanKey = tuple[int, bytes, int]


def plan_key(catalogue: Catalogue, profile: Profile, seed: int) -> PlanKey:
    """Everything the engine reads: the catalogue revision, the profile and the seed."""
    return (catalogue.revision, profile.model_dump_json().encode(), seed)


def generated_plan(catalogue: Catalogue, profile: Profile, seed: int) -> dict[str, Any]:
    """The routine as JSON-ready data: the work a worker thread does on a cache miss."""
    return generate_routine(catalogue, profile, seed).model_dump(mode="json")


class PlanCache:
    """Memoised engine output, as a JSON-ready dict, keyed by everything the engine reads.
    Read and written from the event loop's thread only (the engine itself runs elsewhere)."""

    def __init__(self, size: int = PLAN_CACHE_SIZE) -> None:
        self._plans: LruCache[PlanKey, dict[str, Any]] = LruCache(size)

    def get(self, key: PlanKey) -> dict[str, Any] | None:
        """A routine generated before. Callers must not change it: it is shared."""
        return self._plans.get(key)

    def put(self, key: PlanKey, plan: dict[str, Any]) -> None:
        self._plans.put(key, plan)
