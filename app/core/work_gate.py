"""A bound on costly work: so many pieces at once, a short queue, and a 503 past it.

Rendering a PDF takes a core for a second or more. Unbounded, thirty renders from one client fill
the thread pool and every core, and everyone's reads wait behind them. The gate lets `slots`
run at once (HANDOUT_RENDER_CONCURRENCY), lets `queue` more wait their turn, and answers the
rest 503 with Retry-After at once, before any work is done.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.core.errors import RETRY_AFTER_SECONDS, ServiceUnavailableError


class WorkGate:
    def __init__(self, slots: int, queue: int, what: str) -> None:
        self.slots = slots
        self.capacity = slots + queue
        self.what = what
        self.admitted = 0
        self._semaphore = asyncio.Semaphore(slots)

    @asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        """Run the block when a slot is free; 503 when every slot and queue place is taken."""
        if self.admitted >= self.capacity:
            raise ServiceUnavailableError(
                f"The server is {self.what} as many as it can ({self.slots} at once, "
                f"{self.capacity - self.slots} waiting). Retry after the time in Retry-After.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        self.admitted += 1
        try:
            async with self._semaphore:
                yield
        finally:
            self.admitted -= 1
