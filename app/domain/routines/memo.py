"""Memoised routine generation: the engine is a pure function of (catalogue revision, profile,
seed), so a result can be reused for as long as the catalogue stays at that revision."""

from dataclasses import dataclass
from typing import Any

import orjson

from app.core.lru import LruCache
from app.domain.catalogue import Catalogue
from app.domain.routines.engine import generate_routine
from app.domain.routines.profile import Profile

PLAN_CACHE_SIZE = 256

PlanKey = tuple[int, bytes]


def plan_key(catalogue: Catalogue, routine_profile_json: bytes) -> PlanKey:
    """Everything the engine reads: the catalogue revision, and the profile with its seed as a
    routine's `profile` member serialises them (made once per request, for the key and the
    routine alike)."""
    return (catalogue.revision, routine_profile_json)


@dataclass(frozen=True)
class GeneratedPlan:
    """The engine's routine as JSON-ready data, and the same serialised (a JSON object), so a
    memoised routine is serialised once, not once per routine stored from it."""

    data: dict[str, Any]
    json: bytes


def generated_plan(catalogue: Catalogue, profile: Profile, seed: int) -> GeneratedPlan:
    """The routine as JSON-ready data and bytes: the work a worker thread does on a cache miss."""
    data = generate_routine(catalogue, profile, seed).model_dump(mode="json")
    return GeneratedPlan(data, orjson.dumps(data))


class PlanCache:
    """Memoised engine output, as JSON-ready data and bytes, keyed by everything the engine reads.
    Read and written from the event loop's thread only (the engine itself runs elsewhere)."""

    def __init__(self, size: int = PLAN_CACHE_SIZE) -> None:
        self._plans: LruCache[PlanKey, GeneratedPlan] = LruCache(size)

    def get(self, key: PlanKey) -> GeneratedPlan | None:
        """A routine generated before. Callers must not change it: it is shared."""
        return self._plans.get(key)

    def put(self, key: PlanKey, plan: GeneratedPlan) -> None:
        self._plans.put(key, plan)
