"""The media service's bound on image work: as many uploads decoded at once as it has slots,
as many waiting as its queue holds, and the rest refused at once (503), before any work."""

import asyncio
import threading
from typing import cast

import pytest

from app.content.images import ImageLimits, InvalidImageError
from app.core.errors import ServiceUnavailableError
from app.core.work_gate import WorkGate
from app.db.catalogue_store import CatalogueWriter
from app.db.media_queries import MediaFile
from app.domain.exercise import Attribution
from app.domain.vocabulary import License
from app.services import media as media_service
from app.services.media import ExerciseMedia

ATTRIBUTION = Attribution(
    license=License.cc0_1_0, author="Someone", source_url="https://example.org/a.png", alt="A."
)
LIMITS = ImageLimits(max_bytes=1000, max_pixels=1000, max_dimension=10, thumbnail_size=5)


def test_uploads_past_the_gate_are_refused_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    started, release = threading.Event(), threading.Event()
    calls: list[bytes] = []

    def slow_prepare(data: bytes, limits: ImageLimits) -> MediaFile:
        calls.append(data)
        started.set()
        release.wait(10)
        raise InvalidImageError("stopped here: the test needs no file")

    monkeypatch.setattr(media_service, "prepare_file", slow_prepare)
    gate = WorkGate(1, 0, "processing uploaded images")
    media = ExerciseMedia(cast(CatalogueWriter, None), LIMITS, gate)

    async def two_uploads() -> None:
        first = asyncio.create_task(media.attach("a", b"first", ATTRIBUTION, None, "editor"))
        await asyncio.to_thread(started.wait, 10)
        with pytest.raises(ServiceUnavailableError) as refused:
            await media.attach("a", b"second", ATTRIBUTION, None, "editor")
        assert refused.value.headers["Retry-After"]
        release.set()
        with pytest.raises(InvalidImageError):
            await first

    asyncio.run(two_uploads())
    assert calls == [b"first"], "the refused upload was never decoded"
