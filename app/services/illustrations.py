"""The pictures of an exercise, as the web serves them: SVG drawn once per exercise version, PNG
rasterised once per version and scale (kept in a bounded cache), each with its ETag."""

from dataclasses import dataclass

from app.content.rasterise import svg_to_png
from app.core.errors import NotFoundError
from app.core.lru import LruCache
from app.domain.catalogue import Catalogue, CatalogueEntry
from app.domain.figure.illustrations import PNG_MEDIA_TYPE, SVG_MEDIA_TYPE, illustration_links

PNG_CACHE_ENTRIES = 256
"""PNGs kept per process (a frame is 5-20 KB at 1x): every frame of the catalogue at both
scales, with room to spare."""


@dataclass(frozen=True)
class Picture:
    body: bytes
    media_type: str
    etag: str
    immutable: bool
    """The URL named the exercise's current version: the bytes behind it never change."""


class Illustrations:
    def __init__(self) -> None:
        self._png: LruCache[tuple[str, int, str, int], bytes] = LruCache(PNG_CACHE_ENTRIES)

    def listing(self, catalogue: Catalogue, slug: str) -> list[dict[str, object]]:
        entry = published(catalogue, slug)
        return illustration_links(entry.exercise, entry.version)

    def picture(
        self,
        catalogue: Catalogue,
        slug: str,
        frame: str,
        extension: str,
        scale: int,
        version: int | None,
    ) -> Picture:
        """One frame's picture. A URL naming another version than the current one is a 404:
        what it named is no longer served, and the exercise's document gives the new URLs."""
        entry = published(catalogue, slug)
        if version is not None and version != entry.version:
            raise NotFoundError(
                f"Version {version} of {slug!r} is no longer served; it is at version "
                f"{entry.version}. Take the illustration URLs from the exercise again."
            )
        svg = entry.drawings.svg(frame)
        if svg is None:
            raise NotFoundError(f"{slug!r} has no illustration frame {frame!r}.")
        suffix = "" if scale == 1 else f"@{scale}x"
        etag = f'"{entry.version}-{frame}{suffix}.{extension}"'
        immutable = version is not None
        if extension == "svg":
            return Picture(svg.encode(), SVG_MEDIA_TYPE, etag, immutable)
        key = (slug, entry.version, frame, scale)
        png = self._png.get(key)
        if png is None:
            png = svg_to_png(svg, scale)
            self._png.put(key, png)
        return Picture(png, PNG_MEDIA_TYPE, etag, immutable)


def published(catalogue: Catalogue, slug: str) -> CatalogueEntry:
    entry = catalogue.get(slug)
    if entry is None:
        raise NotFoundError(f"No published exercise has the slug {slug!r}.")
    return entry
