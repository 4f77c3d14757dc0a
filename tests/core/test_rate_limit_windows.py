"""The in-process rate limit storage against the `limits` library's own memory storage: the
sliding window strategy is the library's on both, so every answer must agree."""

import asyncio
import time

import pytest
from limits import parse
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

from app.core.rate_limits import SWEEP_SECONDS, EventLoopMemoryStorage


@pytest.mark.parametrize("limit", ["3/hour", "5/minute", "1/second"])
def test_hits_tests_and_stats_are_the_librarys(limit: str) -> None:
    async def both() -> None:
        item = parse(limit)
        library = SlidingWindowCounterRateLimiter(storage_from_string("async+memory://"))
        ours = SlidingWindowCounterRateLimiter(EventLoopMemoryStorage())
        for step in range(item.amount + 3):
            client = "a" if step % 4 else "b"
            assert await ours.test(item, "writes", client) == await library.test(
                item, "writes", client
            )
            assert await ours.hit(item, "writes", client) == await library.hit(
                item, "writes", client
            )
            mine, theirs = (
                await ours.get_window_stats(item, "writes", client),
                await library.get_window_stats(item, "writes", client),
            )
            assert mine.remaining == theirs.remaining
            assert mine.reset_time == pytest.approx(theirs.reset_time, abs=0.05)
        assert not await ours.hit(item, "writes", "a", cost=item.amount + 1)

    asyncio.run(both())


def test_counters_of_windows_that_are_over_are_dropped() -> None:
    async def run() -> None:
        storage = EventLoopMemoryStorage()
        limiter = SlidingWindowCounterRateLimiter(storage)
        item = parse("2/minute")
        assert [await limiter.hit(item, "w", "a") for _ in range(3)] == [True, True, False]
        assert len(storage.storage) == 1
        later = time.time() + 3 * item.get_expiry() + SWEEP_SECONDS
        storage.next_sweep = 0.0
        storage._sweep(later)
        assert not storage.storage
        assert not storage.expirations
        assert storage.next_sweep == later + SWEEP_SECONDS

    asyncio.run(run())


def test_no_expiry_task_is_started_per_hit() -> None:
    async def run() -> None:
        storage = EventLoopMemoryStorage()
        limiter = SlidingWindowCounterRateLimiter(storage)
        before = len(asyncio.all_tasks())
        for client in range(50):
            await limiter.hit(parse("5/minute"), "w", str(client))
        assert len(asyncio.all_tasks()) == before
        assert storage.timer is None

    asyncio.run(run())
