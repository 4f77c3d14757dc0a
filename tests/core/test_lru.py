"""The one cache helper: bounded, least recently used first, optionally expiring."""

import time

import pytest

from app.core.lru import LruCache


def test_the_least_recently_used_entry_goes_first() -> None:
    cache: LruCache[str, int] = LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # now "b" is the least recently used
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    assert len(cache) == 2


def test_entries_expire_after_max_age(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    cache: LruCache[str, int] = LruCache(10, max_age=1.0)
    cache.put("a", 1)
    now[0] += 0.5
    assert cache.get("a") == 1
    now[0] += 1.0
    assert cache.get("a") is None
    assert len(cache) == 0


def test_evict_and_clear() -> None:
    cache: LruCache[str, int] = LruCache(10)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.evict("a")
    cache.evict("missing")
    assert (cache.get("a"), cache.get("b")) == (None, 2)
    cache.clear()
    assert len(cache) == 0
