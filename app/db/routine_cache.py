"""Recently created or read routines, kept as the JSON bytes the API returned."""

from app.core.lru import LruCache

ROUTINE_CACHE_SIZE = 2048
ROUTINE_CACHE_SECONDS = 1.0


class RoutineCache(LruCache[str, bytes]):
    """Recently created or read routines, as their JSON bytes, by id. A routine never changes once
    written, but it can be deleted: the process that deletes it evicts it at once, and every
    other process forgets it within `max_age` seconds, since no entry is served longer."""

    def __init__(
        self, size: int = ROUTINE_CACHE_SIZE, max_age: float = ROUTINE_CACHE_SECONDS
    ) -> None:
        super().__init__(size, max_age)
