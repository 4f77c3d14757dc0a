"""Rendered handouts, kept by (routine id, format, paper) in a cache bounded by total bytes.

A routine never changes once written, so a rendered handout never goes stale while the template
stays the same. Concurrent requests for a handout not yet rendered share one rendering.
"""

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable


class HandoutCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._bodies: OrderedDict[Hashable, bytes] = OrderedDict()
        self._rendering: dict[Hashable, asyncio.Future[bytes]] = {}

    def __len__(self) -> int:
        return len(self._bodies)

    def get(self, key: Hashable) -> bytes | None:
        body = self._bodies.get(key)
        if body is not None:
            self._bodies.move_to_end(key)
        return body

    def put(self, key: Hashable, body: bytes) -> None:
        if len(body) > self.max_bytes:
            return
        previous = self._bodies.pop(key, None)
        if previous is not None:
            self.size -= len(previous)
        self._bodies[key] = body
        self.size += len(body)
        while self.size > self.max_bytes:
            _, evicted = self._bodies.popitem(last=False)
            self.size -= len(evicted)

    async def get_or_render(self, key: Hashable, render: Callable[[], Awaitable[bytes]]) -> bytes:
        """The cached body, or `render()`'s, rendered once however many requests wait for it."""
        body = self.get(key)
        if body is not None:
            return body
        pending = self._rendering.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._rendering[key] = future
        try:
            body = await render()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as error:
            future.set_exception(error)
            future.exception()  # marked retrieved: with no other waiter, asyncio logs nothing
            raise
        else:
            future.set_result(body)
            self.put(key, body)
            return body
        finally:
            del self._rendering[key]
