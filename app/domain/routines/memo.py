"""Memoised routine generation: the engine is a pure function of (catalogue revision, profile,
seed), so a result can be reused for as long as the catalogue stays at that revision."""

from collections import OrderedDict
from typing import Any

from app.domain.catalogue import Catalogue
from app.domain.routines.engine import generate_routine
from app.domain.routines.profile import Profile

PLAN_CACHE_SIZE = 256


class PlanCache:
    """Memoised engine output, as a JSON-ready dict, keyed by everything the engine reads."""

    def __init__(self, size: int = PLAN_CACHE_SIZE) -> None:
        self._size = size
        self._plans: OrderedDict[tuple[int, bytes, int], dict[str, Any]] = OrderedDict()

    def plan(self, catalogue: Catalogue, profile: Profile, seed: int) -> dict[str, Any]:
        """The routine as JSON-ready data. Callers must not change it: it is shared."""
        key = (catalogue.revision, profile.model_dump_json().encode(), seed)
        cached = self._plans.get(key)
        if cached is not None:
            self._plans.move_to_end(key)
            return cached
        cached = generate_routine(catalogue, profile, seed).model_dump(mode="json")
        self._plans[key] = cached
        if len(self._plans) > self._size:
            self._plans.popitem(last=False)
        return cached
