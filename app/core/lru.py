"""The one bounded cache: least recently used entries go first, and entries may also expire."""

import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


class LruCache(Generic[Key, Value]):
    """At most `size` entries; with `max_age`, none is served more than `max_age` seconds after it
    was put. Not locked: callers share one from the event loop's thread only."""

    def __init__(self, size: int, max_age: float | None = None) -> None:
        self._size = size
        self._max_age = max_age
        self._entries: OrderedDict[Key, tuple[Value, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Key) -> Value | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        value, expires = entry
        if self._max_age is not None and expires < time.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: Key, value: Value) -> None:
        expires = 0.0 if self._max_age is None else time.monotonic() + self._max_age
        self._entries[key] = (value, expires)
        self._entries.move_to_end(key)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def evict(self, key: Key) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
