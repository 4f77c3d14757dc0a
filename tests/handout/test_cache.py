"""The rendered-handout cache: bounded by bytes, and one rendering however many ask at once."""

import asyncio

import pytest

from app.handout.cache import HandoutCache


def test_the_cache_stays_under_its_byte_bound_dropping_the_least_recent() -> None:
    cache = HandoutCache(max_bytes=10)
    cache.put("a", b"1234")
    cache.put("b", b"1234")
    assert cache.get("a") == b"1234"  # now the most recent
    cache.put("c", b"1234")
    assert cache.size <= 10
    assert cache.get("b") is None
    assert cache.get("a") == b"1234"
    cache.put("huge", b"x" * 11)
    assert cache.get("huge") is None


def test_concurrent_requests_share_one_rendering() -> None:
    cache = HandoutCache(max_bytes=1024)
    renders = 0

    async def render() -> bytes:
        nonlocal renders
        renders += 1
        await asyncio.sleep(0.01)
        return b"pdf"

    async def many() -> list[bytes]:
        return await asyncio.gather(*(cache.get_or_render("key", render) for _ in range(8)))

    assert asyncio.run(many()) == [b"pdf"] * 8
    assert renders == 1
    assert asyncio.run(cache.get_or_render("key", render)) == b"pdf"
    assert renders == 1


def test_a_failed_rendering_is_not_cached() -> None:
    cache = HandoutCache(max_bytes=1024)

    async def broken() -> bytes:
        raise RuntimeError("no fonts")

    with pytest.raises(RuntimeError):
        asyncio.run(cache.get_or_render("key", broken))
    assert cache.get("key") is None
    assert len(cache) == 0
