"""The in-process sliding windows against the `limits` library's memory storage they replace."""

import asyncio

import pytest
from limits import parse
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

from app.core.rate_limits import SWEEP_SECONDS, InProcessWindows


@pytest.mark.parametrize("limit", ["3/hour", "5/minute", "1/second"])
def test_hits_tests_and_stats_are_the_librarys(limit: str) -> None:
    async def both() -> None:
        item = parse(limit)
        library = SlidingWindowCounterRateLimiter(storage_from_string("async+memory://"))
        ours = InProcessWindows()
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


def test_a_window_slides_and_over_windows_are_dropped() -> None:
    async def run() -> None:
        now = [7200.0]
        windows = InProcessWindows(clock=lambda: now[0])
        item = parse("2/minute")
        assert [await windows.hit(item, "w", "a") for _ in range(3)] == [True, True, False]
        now[0] += 60  # the next window: the last one's 2 hits weigh in full at its start
        assert not await windows.hit(item, "w", "a")
        now[0] += 30  # half way: they weigh 1
        assert await windows.hit(item, "w", "a")
        assert (await windows.get_window_stats(item, "w", "a")).remaining == 0
        assert len(windows.counters) == 2
        now[0] += 180 + SWEEP_SECONDS
        assert await windows.hit(item, "w", "b")
        assert list(windows.counters) == [(2, 60, ("w", "b"), int(now[0] / 60))]

    asyncio.run(run())
