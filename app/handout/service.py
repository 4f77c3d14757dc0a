"""Handouts for stored routines: rendered once per routine, format and paper, then served from a
bounded cache, with a strong ETag that can be checked before anything is rendered."""

import hashlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool

from app.core.work_gate import WorkGate
from app.domain.figure.illustrations import drawing_digest
from app.handout.cache import HandoutCache
from app.handout.negotiation import HandoutFormat, Variant
from app.handout.render import render_html, render_pdf, template_digest
from app.handout.view import Photos, Pictures, handout_view

CurrentImages = Callable[[str], tuple[str, ...]]
"""The content hashes of the images a published exercise lists now (none when not published)."""


class Handouts:
    def __init__(
        self,
        public_base_url: str,
        cache: HandoutCache,
        pdf_gate: WorkGate | None = None,
        pictures: Pictures | None = None,
        pdf_renderer: Callable[[str], Awaitable[bytes]] | None = None,
    ) -> None:
        """`pdf_gate` bounds the PDF renders in progress (unbounded without one); `pictures`
        draws an exercise version (blocking: it may read a kept version from the database);
        `pdf_renderer` turns a handout page into its PDF (in a worker thread without one)."""
        self.public_base_url = public_base_url
        self.pdf_renderer = pdf_renderer or render_pdf_in_thread
        self.cache = cache
        self.pdf_gate = pdf_gate
        self.pictures = pictures
        self.photos: Photos | None = None
        """An editor's image of an exercise version (blocking: it reads the database)."""
        self.current_images: CurrentImages | None = None
        self._version = f"{template_digest()}|{public_base_url}|{drawing_digest()}"

    def url(self, routine_id: str) -> str:
        """Where the QR code leads: this handout, which a phone's browser opens as a page."""
        return f"{self.public_base_url}/v1/routines/{routine_id}/handout"

    def images_mark(self, document_json: bytes) -> str:
        """What a sheet's printed images depend on besides the routine: the images each of its
        exercises lists now. Removing an image deletes its file, so a sheet printed before
        shows the drawing from then on; with this in its ETag and cache key, the sheet's tag
        changes with it (an image added changes the tag too, though the sheet stays the same)."""
        if self.current_images is None:
            return ""
        digest = hashlib.sha256()
        for slug in sorted(set(exercise_slugs(orjson.loads(document_json)))):
            digest.update(f"{slug}:{','.join(self.current_images(slug))};".encode())
        return digest.hexdigest()[:16]

    def etag(self, routine_id: str, variant: Variant, images_mark: str) -> str:
        """Strong: the same routine, variant, template, base URL and images always give the
        same bytes (a routine never changes, and both renderings are deterministic)."""
        key = f"{routine_id}|{variant.format}|{variant.paper}|{self._version}|{images_mark}"
        return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'

    def cached(self, routine_id: str, variant: Variant, images_mark: str) -> bytes | None:
        return self.cache.get((routine_id, variant, images_mark))

    async def render(
        self, routine_id: str, variant: Variant, document_json: bytes, images_mark: str
    ) -> bytes:
        """The handout of a stored routine (its JSON as stored), rendered once and cached."""

        def page() -> bytes:
            document = orjson.loads(document_json)
            view = handout_view(document, self.url(routine_id), self.pictures, self.photos)
            return render_html(view, variant.paper).encode()

        async def html() -> bytes:
            return await run_in_threadpool(page)

        async def pdf() -> bytes:
            page_key = (routine_id, html_of(variant), images_mark)
            markup = await self.cache.get_or_render(page_key, html)
            if self.pdf_gate is None:
                return await self.pdf_renderer(markup.decode())
            async with self.pdf_gate.admit():
                return await self.pdf_renderer(markup.decode())

        renderer = pdf if variant.format is HandoutFormat.pdf else html
        return await self.cache.get_or_render((routine_id, variant, images_mark), renderer)


async def render_pdf_in_thread(html: str) -> bytes:
    return await run_in_threadpool(render_pdf, html)


def html_of(variant: Variant) -> Variant:
    return Variant(HandoutFormat.html, variant.paper)


def exercise_slugs(document: dict[str, Any]) -> Iterator[str]:
    for block in document.get("blocks") or ():
        for item in block.get("items") or ():
            slug = (item.get("exercise") or {}).get("slug")
            if isinstance(slug, str):
                yield slug
