"""Per-client rate limits, kept by the `limits` library in memory or in Redis.

Three budgets, all per client address (the one uvicorn reports, which honours `X-Forwarded-For`
only from trusted proxies):

- anonymous writes: creating a routine and giving feedback share one budget, so one client cannot
  fill the database or starve the others;
- PDF handouts rendered (one served from the cache costs nothing): a render takes a core for a
  second or more;
- failed key authentications: once a client has used them up, every wrong key it presents is
  refused with 429 until the window moves on (the right key is still let through: see
  `app/api/auth.py`).

Reads are never limited. A request refused for want of budget is answered after a short pause
(`refusal_delay_seconds`, RATE_LIMIT_REFUSAL_DELAY_SECONDS): a 429 is cheap, but a client that
sends its next request as soon as its 429 arrives, on dozens of connections, still has the one
event loop parse and refuse thousands a second, and everyone else's requests queue behind them;
paused, each of its connections costs a few requests a second (the per-address connection cap
bounds how many it has), and the pause costs the server nothing but a timer.

With `memory://` each process keeps its own counts; with `redis://` all processes that name the
same Redis share one budget. If Redis cannot be reached the request is served unlimited: losing
the limiter must not take the API down with it. The failure is logged once, and for a few
seconds the storage is not tried at all (`StorageBreaker`), so a frozen Redis costs one timeout,
not one per request.
"""

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from app.core.errors import ApiError
from app.core.outages import OutageLog

logger = logging.getLogger("app.rate_limits")

REDIS_TIMEOUT_SECONDS = 0.5
"""How long a limit check may wait on Redis before the request goes ahead unlimited."""


@dataclass(frozen=True)
class Budget:
    """What is left of one client's budget under a policy, as the IETF RateLimit header fields
    (draft-ietf-httpapi-ratelimit-headers) say it: `RateLimit-Policy` gives the quota and the
    window in seconds, `RateLimit` what remains and the seconds until the window moves on."""

    policy: str
    quota: int
    window_seconds: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Policy": f'"{self.policy}";q={self.quota};w={self.window_seconds}',
            "RateLimit": f'"{self.policy}";r={self.remaining};t={self.reset_seconds}',
        }


class TooManyRequestsError(ApiError):
    status = 429
    slug = "too-many-requests"
    title = "Too many requests"
    description = (
        "This client made too many routines or feedback calls, had too many PDF handouts "
        "rendered, or presented too many wrong keys, within the window. Retry after the "
        "seconds in `Retry-After`."
    )

    def __init__(self, detail: str, retry_after: int, budget: Budget | None = None) -> None:
        spent = {} if budget is None else budget.headers()
        super().__init__(detail, headers={**spent, "Retry-After": str(retry_after)})


STORAGE_RETRY_SECONDS = 5.0
"""After a storage failure, how long requests skip the storage (served unlimited) before it is
tried again: a frozen Redis would otherwise add its 0.5 s timeout to every write."""


class StorageBreaker:
    """A circuit breaker on the limits' storage: the first failure opens it and requests skip
    the storage for STORAGE_RETRY_SECONDS; the next call after that tries it again, and the
    first that succeeds closes it. The outage is logged when it starts and when it ends
    (`OutageLog`), not once per request."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.retry_at = 0.0
        self.outage = OutageLog(
            logger,
            "rate limit storage",
            f"requests are not limited until it answers, tried again every "
            f"{STORAGE_RETRY_SECONDS:g} s",
        )

    @property
    def failing(self) -> bool:
        return self.outage.failing

    def skipping(self) -> bool:
        """Whether calls skip the storage now (it failed, and the retry time has not come)."""
        return self.failing and self.clock() < self.retry_at

    def failed(self, error: Exception) -> None:
        self.outage.failed(error)
        self.retry_at = self.clock() + STORAGE_RETRY_SECONDS

    def answered(self) -> None:
        self.outage.answered()


SWEEP_SECONDS = 10.0
"""How often, at most, `EventLoopMemoryStorage` drops the counters of windows that are over."""


class EventLoopMemoryStorage(MemoryStorage):
    """`limits`' in-process storage for `memory://`, used from the event loop's thread only.

    The sliding window arithmetic stays the library's (`SlidingWindowCounterRateLimiter` on this
    storage's counters and expiries); only the bookkeeping around them changes. The library's
    storage takes a per-key lock and starts an expiry task on every hit, which cost more than
    the rest of a routine's creation: here nothing suspends between reading a counter and
    writing it, so no lock is needed, and a counter whose window is over is dropped when read,
    and every such counter at most every SWEEP_SECONDS, so the table holds live windows only."""

    STORAGE_SCHEME = ["async+event-loop-memory"]

    def __init__(self) -> None:
        super().__init__()
        self.next_sweep = 0.0

    async def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        if now >= self.next_sweep:
            self._sweep(now)
        count = self._live_count(key, now) + amount
        self.storage[key] = count
        if count == amount:
            self.expirations[key] = now + expiry
        return count

    async def decr(self, key: str, amount: int = 1) -> int:
        count = max(self._live_count(key, time.time()) - amount, 0)
        self.storage[key] = count
        return count

    async def get(self, key: str) -> int:
        return self._live_count(key, time.time())

    def _live_count(self, key: str, now: float) -> int:
        if self.expirations.get(key, 0) <= now:
            self.storage.pop(key, None)
            self.expirations.pop(key, None)
            return 0
        return self.storage[key]

    def _sweep(self, now: float) -> None:
        over = [key for key, expires in self.expirations.items() if expires <= now]
        for key in over:
            self.storage.pop(key, None)
            del self.expirations[key]
        self.next_sweep = now + SWEEP_SECONDS


def async_storage_uri(uri: str) -> str:
    """`memory://` and `redis://host:port` as the `limits` async storages spell them."""
    return uri if uri.startswith("async+") else f"async+{uri}"


class RateLimits:
    def __init__(
        self,
        storage_uri: str,
        routine_writes: str,
        auth_failures: str,
        renders: str = "30/minute",
        media_uploads: str = "30/minute",
        refusal_delay_seconds: float = 0.0,
    ) -> None:
        self.refusal_delay_seconds = refusal_delay_seconds
        self.redis_pool: redis.asyncio.ConnectionPool | None = None
        if storage_uri.startswith("redis"):
            self.redis_pool = redis.asyncio.ConnectionPool.from_url(
                storage_uri,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
            options: dict[str, Any] = {
                "implementation": "redispy",
                "connection_pool": self.redis_pool,
            }
            self.limiter = SlidingWindowCounterRateLimiter(
                storage_from_string(async_storage_uri(storage_uri), wrap_exceptions=True, **options)
            )
        else:
            self.limiter = SlidingWindowCounterRateLimiter(EventLoopMemoryStorage())
        self.routine_writes: RateLimitItem = parse(routine_writes)
        self.auth_failures: RateLimitItem = parse(auth_failures)
        self.renders: RateLimitItem = parse(renders)
        self.media_uploads: RateLimitItem = parse(media_uploads)
        self.breaker = StorageBreaker()

    async def close(self) -> None:
        """Drop the Redis connections, which belong to the event loop that opened them."""
        if self.redis_pool is not None:
            await self.redis_pool.disconnect()

    async def spend_routine_write(self, client: str) -> Budget | None:
        """Count one routine creation or feedback; 429 once the client's budget is spent."""
        return await self._spend(
            self.routine_writes, "routine-writes", client, "Too many routines and feedback"
        )

    async def spend_render(self, client: str) -> Budget | None:
        """Count one PDF handout rendered for the client; 429 once its budget is spent."""
        return await self._spend(self.renders, "renders", client, "Too many PDF handouts rendered")

    async def spend_media_upload(self, client: str) -> Budget | None:
        """Count one image upload from the client; 429 once its budget is spent."""
        return await self._spend(
            self.media_uploads, "media-uploads", client, "Too many image uploads"
        )

    async def _spend(
        self, item: RateLimitItem, policy: str, client: str, too_many: str
    ) -> Budget | None:
        """Count one request against `policy` and say what is left (None when the storage
        failed and the request goes ahead unlimited); 429 once nothing is left."""
        if self.breaker.skipping():
            return None
        try:
            allowed = await self.limiter.hit(item, policy, client)
            stats = await self.limiter.get_window_stats(item, policy, client)
        except StorageError as error:
            self.breaker.failed(error)
            return None
        self.breaker.answered()
        reset = max(1, math.ceil(stats.reset_time - time.time()))
        budget = Budget(policy, item.amount, item.get_expiry(), stats.remaining, reset)
        if not allowed:
            await asyncio.sleep(min(self.refusal_delay_seconds, reset))
            raise TooManyRequestsError(
                f"{too_many} for this client: the limit is {item}.", reset, budget
            )
        return budget

    async def check_authentication_allowed(self, client: str) -> None:
        """429 while the client has no failed authentications left."""
        if self.breaker.skipping():
            return
        try:
            allowed = await self.limiter.test(self.auth_failures, "auth-failures", client)
        except StorageError as error:
            self.breaker.failed(error)
            return
        self.breaker.answered()
        if not allowed:
            raise await self._refusal(
                self.auth_failures,
                ("auth-failures", client),
                f"Too many failed key authentications from this client: the limit is "
                f"{self.auth_failures}.",
            )

    async def record_authentication_failure(self, client: str) -> None:
        if self.breaker.skipping():
            return
        try:
            await self.limiter.hit(self.auth_failures, "auth-failures", client)
        except StorageError as error:
            self.breaker.failed(error)
            return
        self.breaker.answered()

    async def _refusal(
        self, item: RateLimitItem, identifiers: tuple[str, ...], detail: str
    ) -> TooManyRequestsError:
        try:
            stats = await self.limiter.get_window_stats(item, *identifiers)
            wait = stats.reset_time - time.time()
        except StorageError:
            wait = item.get_expiry()
        return TooManyRequestsError(detail, retry_after=max(1, math.ceil(wait)))
