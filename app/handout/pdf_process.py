"""PDF handouts rendered in worker processes: WeasyPrint's layout is pure-Python CPU work, so in
the server's own threads it held the interpreter lock that the event loop needs for every other
request. In a process pool the server process never imports WeasyPrint, and a render's CPU time
is another process's."""

import asyncio
import logging
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from app.core.errors import ServiceUnavailableError
from app.handout.render import render_pdf, warm_up

logger = logging.getLogger("app.handout")

RENDERER_STOPPED = (
    "The PDF renderer stopped while rendering this handout; it has been restarted. Retry after "
    "the time in Retry-After. The HTML handout works."
)


class RenderFailedError(Exception):
    """A render that failed in a worker, carried back by message only (the original exception
    may not pickle)."""


def render_in_worker(html: str) -> bytes:
    """Runs in a worker process: the PDF, or a plain exception carrying what went wrong."""
    try:
        return render_pdf(html)
    except ServiceUnavailableError as error:
        raise RenderFailedError(error.detail) from None
    except Exception as error:
        raise RenderFailedError(f"The PDF handout could not be rendered ({error})") from None


class ProcessPdfRenderer:
    """Renders PDFs in up to `workers` processes, started on the first render (each imports
    WeasyPrint and loads its fonts once) and stopped by `close`. A worker that dies mid-render
    answers that request 503; the next render starts a fresh pool."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _current(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("forkserver"),
                    initializer=warm_up,
                )
            return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    async def __call__(self, html: str) -> bytes:
        pool = self._current()
        try:
            return await asyncio.wrap_future(pool.submit(render_in_worker, html))
        except RenderFailedError as error:
            raise ServiceUnavailableError(str(error)) from None
        except BrokenProcessPool:
            logger.warning("a PDF render worker stopped; starting a new pool")
            self._discard(pool)
            raise ServiceUnavailableError(RENDERER_STOPPED) from None

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
