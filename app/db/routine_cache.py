"""Recently created or read routines, kept as the JSON bytes the API returned."""

import time
from collections import OrderedDict

ROUTINE_CACHE_SIZE = 2048
ROUTINE_CACHE_SECONDS = 1.0


class RoutineCache:
    """Recently created or read routines, as their JSON bytes. A routine never changes once
    written, but it can be deleted: the process that deletes it evicts it at once, and every
    other process forgets it within `max_age` seconds, since no entry is served longer."""

    def __init__(
        self, size: int = ROUTINE_CACHE_SIZE, max_age: float = ROUTINE_CACHE_SECONDS
    ) -> None:
        self._size = size
        self._max_age = max_age
        self._documents: OrderedDict[str, tuple[bytes, float]] = OrderedDict()

    def get(self, routine_id: str) -> bytes | None:
        entry = self._documents.get(routine_id)
        if entry is None:
            return None
        if entry[1] < time.monotonic():
            del self._documents[routine_id]
            return None
        self._documents.move_to_end(routine_id)
        return entry[0]

    def put(self, routine_id: str, document: bytes) -> None:
        self._documents[routine_id] = (document, time.monotonic() + self._max_age)
        self._documents.move_to_end(routine_id)
        if len(self._documents) > self._size:
            self._documents.popitem(last=False)

    def evict(self, routine_id: str) -> None:
        self._documents.pop(routine_id, None)

    def clear(self) -> None:
        self._documents.clear()
