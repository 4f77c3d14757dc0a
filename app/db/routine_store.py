"""Stored routines for one process: compression, the byte cache and the database together, so a
router asks for a routine's bytes and never sees how they are kept."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError

from app.db.routine_cache import RoutineCache
from app.db.routine_codec import RoutineCodec, RoutineDictionary
from app.db.routine_queries import (
    Deletion,
    NewRoutine,
    PurgeReport,
    RoutineDeletedError,
    StoredRoutine,
    chain_feedback,
    delete_routine,
    dictionary_content,
    feedback_document,
    feedback_given_with,
    insert_routine,
    insert_routines,
    purge_batch,
    record_feedback,
    routine_for_idempotency_key,
    stored_routine,
    token_refusal,
)
from app.db.session import Database
from app.domain.catalogue import Catalogue
from app.domain.routines.engine import with_excluded_summary

PURGE_BATCH_SIZE = 1000
"""Routines one purge transaction handles at most (ROUTINE_PURGE_BATCH_SIZE)."""


def retention_cutoff(retention_days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=retention_days)


class RoutineStore:
    def __init__(
        self,
        database: Database,
        retention_days: int,
        cache: RoutineCache | None = None,
        purge_batch_size: int = PURGE_BATCH_SIZE,
    ) -> None:
        self.database = database
        self.retention_days = retention_days
        self.purge_batch_size = purge_batch_size
        self.cache = cache or RoutineCache()
        self.codec = RoutineCodec()
        self._batch: list[tuple[NewRoutine, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    def prepare(
        self,
        catalogue: Catalogue,
        document: dict[str, Any],
        document_json: bytes,
        delete_token_hash: str,
        idempotency_key_hash: str | None = None,
    ) -> NewRoutine:
        """The row for a new routine: `document_json` is `document` serialised (the response).
        It is compressed later, in the worker thread that stores it."""
        return NewRoutine(
            document,
            document_json,
            self.codec.dictionary_for(catalogue),
            delete_token_hash,
            idempotency_key_hash,
        )

    async def create(self, routine: NewRoutine) -> None:
        """Store a routine; raises IdempotencyKeyTakenError when its key was used before.

        Routines created while earlier ones are being written wait and are then written
        together, in one transaction: one trip to the thread pool and one commit for the lot
        rather than one each, so under load the worker threads take the GIL from the event loop
        once a batch, not once a routine. Alone, a routine goes at once. Each request is
        answered only once its routine is committed."""
        written = asyncio.get_running_loop().create_future()
        self._batch.append((routine, written))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_batches())
        await written
        self._stored(routine)

    async def _write_batches(self) -> None:
        batch: list[tuple[NewRoutine, asyncio.Future[None]]] = []
        try:
            while self._batch:
                batch, self._batch = self._batch, []
                await self._write(batch)
        finally:
            self._writer = None
            for _routine, written in [*batch, *self._batch]:  # only if this task was cancelled
                written.cancel()
            self._batch = []

    async def _write(self, batch: list[tuple[NewRoutine, asyncio.Future[None]]]) -> None:
        routines = [routine for routine, _ in batch]
        try:
            await self.database.transaction(
                lambda c: insert_routines(c, routines),
                prepare=lambda: [routine.document_zstd for routine in routines],
            )
        except IntegrityError:
            for routine, written in batch:  # tell which one failed, and store the others
                await _settle(
                    written, self.database.transaction(partial(insert_routine, routine=routine))
                )
            return
        except Exception as error:
            for _routine, written in batch:
                _fail(written, error)
            return
        for _routine, written in batch:
            if not written.done():
                written.set_result(None)

    async def body(self, routine_id: str) -> bytes | None:
        """The bytes creation returned (without the delete token), None for an unknown id;
        raises RoutineDeletedError for a deleted one."""
        cached = self.cache.get(routine_id)
        if cached is not None:
            return cached
        stored = await self.database.read(lambda c: stored_routine(c, routine_id))
        if stored is None:
            return None
        body = await self._decompress(stored)
        self.cache.put(routine_id, body)
        return body

    async def document(self, routine_id: str) -> dict[str, Any] | None:
        body = await self.body(routine_id)
        return None if body is None else dict(orjson.loads(body))

    async def for_idempotency_key(self, key_hash: str) -> tuple[str, bytes] | None:
        """The id and bytes of the live routine created with this key, if any."""
        stored = await self.database.read(lambda c: routine_for_idempotency_key(c, key_hash))
        if stored is None or stored.document_zstd is None:
            return None
        return stored.id, await self._decompress(stored)

    async def feedback(self, routine_id: str) -> dict[str, Any] | None:
        return await self.database.read(lambda c: feedback_document(c, routine_id))

    async def chain_feedback(self, routine_ids: list[str]) -> list[dict[str, Any]]:
        """The feedback given on the earlier routines of a chain (none on deleted ones)."""
        return await self.database.read(lambda c: chain_feedback(c, routine_ids))

    async def feedback_given_with(
        self, routine_id: str
    ) -> tuple[dict[str, Any], str | None] | None:
        """The feedback on a routine and the hash of its Idempotency-Key, if it came with one."""
        return await self.database.read(lambda c: feedback_given_with(c, routine_id))

    async def record_feedback(
        self,
        feedback: dict[str, Any],
        next_routine: NewRoutine | None,
        idempotency_key_hash: str | None = None,
    ) -> None:
        await self.database.transaction(
            lambda c: record_feedback(c, feedback, next_routine, idempotency_key_hash),
            prepare=None if next_routine is None else lambda: next_routine.document_zstd,
        )
        if next_routine is not None:
            self._stored(next_routine)

    def _stored(self, routine: NewRoutine) -> None:
        routine.dictionary.stored = True
        self.cache.put(routine.document["id"], routine.document_json)

    async def token_refusal(self, routine_id: str, token_hash: str) -> Deletion | None:
        """None when `token_hash` is the routine's delete token's hash, else why not."""
        return await self.database.read(lambda c: token_refusal(c, routine_id, token_hash))

    async def delete(self, routine_id: str, token_hash: str) -> Deletion:
        outcome = await self.database.transaction(
            lambda c: delete_routine(c, routine_id, token_hash)
        )
        self.cache.evict(routine_id)
        return outcome

    async def purge_expired(
        self, progress: Callable[[PurgeReport], None] | None = None
    ) -> PurgeReport:
        """Delete the routines older than the retention period, `purge_batch_size` at a time,
        each batch its own short transaction; `progress` hears the running totals after each."""
        cutoff = retention_cutoff(self.retention_days)
        batch_size = self.purge_batch_size
        purged = removed = 0
        try:
            while True:
                batch = await self.database.transaction(
                    lambda c: purge_batch(c, cutoff, batch_size)
                )
                purged += batch.purged
                removed += batch.tombstones_removed
                if not (batch.purged or batch.tombstones_removed):
                    return PurgeReport(cutoff, purged, removed)
                if progress is not None:
                    progress(PurgeReport(cutoff, purged, removed))
        finally:
            self.cache.clear()

    async def _decompress(self, stored: StoredRoutine) -> bytes:
        if stored.document_zstd is None:
            raise RoutineDeletedError(stored.id)
        body = self.codec.decompress(stored.document_zstd, await self._dictionary(stored))
        return published_shape(body)

    async def _dictionary(self, stored: StoredRoutine) -> RoutineDictionary | None:
        dictionary_id = stored.dictionary_id
        if dictionary_id is None:
            return None
        known = self.codec.known(dictionary_id)
        if known is not None:
            return known
        content = await self.database.read(lambda c: dictionary_content(c, dictionary_id))
        if content is None:
            raise LookupError(f"routine {stored.id} names a missing dictionary")
        return self.codec.remember(RoutineDictionary(dictionary_id, content, stored=True))


def published_shape(body: bytes) -> bytes:
    """A stored routine as the contract has it now. The stored bytes stay as written: one
    stored before routines carried `excluded_summary` is upgraded here, on every read."""
    if b'"excluded_summary"' in body:
        return body
    return orjson.dumps(with_excluded_summary(orjson.loads(body)))


async def _settle(written: asyncio.Future[None], work: Awaitable[None]) -> None:
    try:
        await work
    except Exception as error:
        _fail(written, error)
    else:
        if not written.done():
            written.set_result(None)


def _fail(written: asyncio.Future[None], error: Exception) -> None:
    if not written.done():
        written.set_exception(error)
