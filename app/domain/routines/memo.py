"""Memoised routine generation: the engine is a pure function of (catalogue revision, profile,
seed), so a result can be reused for as long as the catalogue stays at that revision."""

from typing import Any

from app.core.lru import LruCache
from app.domain.catalogue import Catalogue
from app.domain.routines.engine import generate_routine
from app.domain.routines.profile import Profile

PLAN_CACHE_SIZE = 256


class PlanCache:
    """Memoised engine output, as a JSON-ready dict, keyed by everything the engine reads."""

    def __init__(self, size: int = PLAN_CACHE_SIZE) -> None:
        self._plans: LruCache[tuple[int, bytes, int], dict[str, Any]] = LruCache(size)

    def plan(self, catalogue: Catalogue, profile: Profile, seed: int) -> dict[str, Any]:
        """The routine as JSON-ready data. Callers must not change it: it is shared."""
        key = (catalogue.revision, profile.model_dump_json().encode(), seed)
        cached = self._plans.get(key)
        if cached is None:
            cached = generate_routine(catalogue, profile, seed).model_dump(mode="json")
            self._plans.put(key, cached)
        return cached
