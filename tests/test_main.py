"""The catalogue refresher outlives any failure of a poll; start-up freezes what it leaves alive."""

import asyncio
import gc
import logging

from app.core.settings import Settings
from app.main import keep_catalogue_fresh, settle


class FlakyStore:
    """Fails its first two refreshes in ways no database error handler would catch."""

    def __init__(self) -> None:
        self.calls = 0

    def refresh(self) -> bool:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("boom\nsecond line")
        if self.calls == 2:
            raise KeyError("missing")
        return False


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_refresher_survives_any_exception_and_logs_the_outage_once() -> None:
    """Two failing polls in a row are one outage: one WARNING when it starts (naming the first
    error), one INFO line when a poll succeeds again, nothing for the polls after."""
    store = FlakyStore()
    lines = Lines()
    logger = logging.getLogger("app")
    logger.addHandler(lines)
    level = logger.level
    logger.setLevel(logging.INFO)

    async def run() -> None:
        task = asyncio.create_task(keep_catalogue_fresh(store, 0.001))  # type: ignore[arg-type]
        while store.calls < 6:
            await asyncio.sleep(0.001)
        task.cancel()

    try:
        asyncio.run(run())
    finally:
        logger.removeHandler(lines)
        logger.setLevel(level)
    assert store.calls >= 6
    outage = [line for line in lines.lines if "catalogue refresh" in line]
    assert outage == [
        "catalogue refresh failed (serving the last snapshot): RuntimeError: boom",
        "catalogue refresh works again",
    ]


def test_start_up_freezes_what_it_leaves_alive_unless_told_not_to() -> None:
    assert Settings().freeze_heap_at_start is False  # this suite's setting (tests/conftest.py)
    assert Settings(freeze_heap_at_start=True).freeze_heap_at_start
    gc.unfreeze()
    try:
        settle(False)
        assert gc.get_freeze_count() == 0
        settle(True)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
