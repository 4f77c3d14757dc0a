"""Handouts for stored routines: rendered once per routine, format and paper, then served from a
bounded cache, with a strong ETag that can be checked before anything is rendered."""

import hashlib

import orjson
from starlette.concurrency import run_in_threadpool

from app.core.work_gate import WorkGate
from app.domain.figure.illustrations import drawing_digest
from app.handout.cache import HandoutCache
from app.handout.negotiation import HandoutFormat, Variant
from app.handout.render import render_html, render_pdf, template_digest
from app.handout.view import Photos, Pictures, handout_view


class Handouts:
    def __init__(
        self,
        public_base_url: str,
        cache: HandoutCache,
        pdf_gate: WorkGate | None = None,
        pictures: Pictures | None = None,
    ) -> None:
        """`pdf_gate` bounds the PDF renders in progress (unbounded without one); `pictures`
        draws an exercise version (blocking: it may read a kept version from the database)."""
        self.public_base_url = public_base_url
        self.cache = cache
        self.pdf_gate = pdf_gate
        self.pictures = pictures
        self.photos: Photos | None = None
        """An editor's image of an exercise version (blocking: it reads the database)."""
        self._version = f"{template_digest()}|{public_base_url}|{drawing_digest()}"

    def url(self, routine_id: str) -> str:
        """Where the QR code leads: this handout, which a phone's browser opens as a page."""
        return f"{self.public_base_url}/v1/routines/{routine_id}/handout"

    def etag(self, routine_id: str, variant: Variant) -> str:
        """Strong: the same routine, variant, template and base URL always give the same bytes
        (a routine never changes, and both renderings are deterministic)."""
        key = f"{routine_id}|{variant.format}|{variant.paper}|{self._version}"
        return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'

    def cached(self, routine_id: str, variant: Variant) -> bytes | None:
        return self.cache.get((routine_id, variant))

    async def render(self, routine_id: str, variant: Variant, document_json: bytes) -> bytes:
        """The handout of a stored routine (its JSON as stored), rendered once and cached."""

        def page() -> bytes:
            document = orjson.loads(document_json)
            view = handout_view(document, self.url(routine_id), self.pictures, self.photos)
            return render_html(view, variant.paper).encode()

        async def html() -> bytes:
            return await run_in_threadpool(page)

        async def pdf() -> bytes:
            markup = await self.cache.get_or_render((routine_id, html_of(variant)), html)
            if self.pdf_gate is None:
                return await run_in_threadpool(render_pdf, markup.decode())
            async with self.pdf_gate.admit():
                return await run_in_threadpool(render_pdf, markup.decode())

        renderer = pdf if variant.format is HandoutFormat.pdf else html
        return await self.cache.get_or_render((routine_id, variant), renderer)


def html_of(variant: Variant) -> Variant:
    return Variant(HandoutFormat.html, variant.paper)
