"""The pictures of an exercise, as the web serves them: SVG drawn once per exercise version, PNG
rasterised once per version and scale (kept in a bounded cache), each with its ETag.

A URL names a version (`?v=3`). The current one is drawn from the catalogue snapshot; an older one
from the version kept in the database (every published version stays readable), so what a URL
names never changes."""

from dataclasses import dataclass

from pydantic import ValidationError

from app.content.rasterise import svg_to_png
from app.core.errors import NotFoundError
from app.core.lru import LruCache
from app.domain.catalogue import Catalogue, CatalogueEntry
from app.domain.exercise import Exercise
from app.domain.figure.illustrations import (
    PNG_MEDIA_TYPE,
    SVG_MEDIA_TYPE,
    Drawings,
    illustration_links,
    with_own_ids,
)
from app.services.content import Content

PNG_CACHE_ENTRIES = 256
"""PNGs kept per process (a frame is 5-20 KB at 1x): every frame of the catalogue at both
scales, with room to spare."""
OLD_VERSIONS_KEPT = 64
"""Earlier versions (and their drawings) kept per process, for URLs an app cached before an
edit."""


@dataclass(frozen=True)
class Picture:
    body: bytes
    media_type: str
    etag: str
    immutable: bool
    """The URL named a version: the bytes behind it never change."""


class Illustrations:
    def __init__(self) -> None:
        self._png: LruCache[tuple[str, int, str, int], bytes] = LruCache(PNG_CACHE_ENTRIES)
        self._old: LruCache[tuple[str, int], CatalogueEntry] = LruCache(OLD_VERSIONS_KEPT)

    def listing(self, catalogue: Catalogue, slug: str) -> tuple[int, list[dict[str, object]]]:
        entry = published(catalogue, slug)
        return entry.version, illustration_links(entry.exercise, entry.version)

    def current(
        self, catalogue: Catalogue, slug: str, version: int | None
    ) -> CatalogueEntry | None:
        """The published exercise when the URL names its current version (or none); None when
        it names another, which `earlier` reads from the database."""
        entry = catalogue.get(slug)
        if entry is not None and version in (None, entry.version):
            return entry
        if version is None:
            raise NotFoundError(f"No published exercise has the slug {slug!r}.")
        return self._old.get((slug, version))

    def earlier(self, content: Content, slug: str, version: int) -> CatalogueEntry:
        """A kept version of the exercise (blocking: a database read)."""
        found = content.versions(slug, version)
        if not found:
            raise NotFoundError(f"The exercise {slug!r} has no published version {version}.")
        return found[0].entry

    def last_frame(
        self, catalogue: Catalogue, content: Content, slug: str, version: int
    ) -> str | None:
        """The exercise version's last key frame as SVG (the previous frame faint behind it,
        an arrow between): one picture that shows the movement, for a printed sheet. Blocking:
        an earlier version is read from the database (and not kept: the old-version cache
        belongs to the event loop's thread)."""
        entry = content.entry_at(catalogue, slug, version)
        return None if entry is None else movement_picture(entry)

    def keep(self, entry: CatalogueEntry) -> None:
        self._old.put((entry.slug, entry.version), entry)

    def picture(
        self, entry: CatalogueEntry, frame: str, extension: str, scale: int, immutable: bool
    ) -> Picture:
        svg = entry.drawings.svg(frame)
        if svg is None:
            raise NotFoundError(f"{entry.slug!r} has no illustration frame {frame!r}.")
        suffix = "" if scale == 1 else f"@{scale}x"
        etag = f'"{entry.version}-{frame}{suffix}.{extension}"'
        if extension == "svg":
            return Picture(svg.encode(), SVG_MEDIA_TYPE, etag, immutable)
        key = (entry.slug, entry.version, frame, scale)
        png = self._png.get(key)
        if png is None:
            png = svg_to_png(svg, scale)
            self._png.put(key, png)
        return Picture(png, PNG_MEDIA_TYPE, etag, immutable)


def movement_picture(entry: CatalogueEntry) -> str | None:
    """The exercise's last key frame as SVG, the frame before it faint behind and an arrow
    between, its ids prefixed with the slug (a page may hold many): None without a figure."""
    figure = entry.exercise.figure
    drawn = None if figure is None else entry.drawings.svg(figure.frames[-1].name)
    return None if drawn is None else with_own_ids(drawn, f"{entry.slug}-")


@dataclass(frozen=True)
class DrawnFrame:
    name: str
    step: int
    svg: str


def drawn_frames(document: dict[str, object]) -> list[DrawnFrame]:
    """Every key frame of a stored exercise document (in any status) drawn, each SVG with ids
    of its own: what an editor sees of the figure they wrote. None for a document that no
    longer validates or has no figure."""
    try:
        exercise = Exercise.model_validate(document)
    except ValidationError:
        return []
    if exercise.figure is None:
        return []
    drawings = Drawings(exercise)
    return [
        DrawnFrame(frame.name, frame.step, with_own_ids(svg, f"{frame.name}-"))
        for frame in exercise.figure.frames
        if (svg := drawings.svg(frame.name)) is not None
    ]


def published(catalogue: Catalogue, slug: str) -> CatalogueEntry:
    entry = catalogue.get(slug)
    if entry is None:
        raise NotFoundError(f"No published exercise has the slug {slug!r}.")
    return entry
