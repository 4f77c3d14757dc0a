"""Recently created or read routines, kept as the JSON bytes the API returned."""

from collections import OrderedDict

ROUTINE_CACHE_SIZE = 2048


class RoutineCache:
    """Recently created or read routines, as their JSON bytes. A routine never changes once
    written, so an entry can never be stale, in this process or any other."""

    def __init__(self, size: int = ROUTINE_CACHE_SIZE) -> None:
        self._size = size
        self._documents: OrderedDict[str, bytes] = OrderedDict()

    def get(self, routine_id: str) -> bytes | None:
        document = self._documents.get(routine_id)
        if document is not None:
            self._documents.move_to_end(routine_id)
        return document

    def put(self, routine_id: str, document: bytes) -> None:
        self._documents[routine_id] = document
        if len(self._documents) > self._size:
            self._documents.popitem(last=False)
