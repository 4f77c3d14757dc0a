"""An exercise's illustrations: one picture per key frame of its figure, with its words and URLs.

URLs carry the exercise's version (`?v=3`): what one names never changes, so it may be cached
for good; an edit gives new URLs.
"""

import hashlib
import inspect
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from app.domain.exercise import Exercise
from app.domain.figure import body, scene, svg
from app.domain.figure.scene import Scene, build_scene
from app.domain.figure.svg import render_frame

PNG_SCALES = (1, 2)
SVG_MEDIA_TYPE = "image/svg+xml"
PNG_MEDIA_TYPE = "image/png"


def drawing_digest() -> str:
    """A digest of the drawing code: what a page that embeds pictures (a handout, whose ETag
    promises the same bytes for good) must change its tag with."""
    digest = hashlib.sha256()
    for module in (body, scene, svg):
        digest.update(inspect.getsource(module).encode())
    return digest.hexdigest()[:16]


def with_own_ids(svg_markup: str, prefix: str) -> str:
    """The SVG with its ids (title, description, arrowhead) prefixed, so several can sit in one
    HTML page without two elements sharing an id."""
    replacements = {
        'id="t"': f'id="{prefix}t"',
        'id="d"': f'id="{prefix}d"',
        'aria-labelledby="t d"': f'aria-labelledby="{prefix}t {prefix}d"',
        'id="a"': f'id="{prefix}a"',
        "url(#a)": f"url(#{prefix}a)",
    }
    for old, new in replacements.items():
        svg_markup = svg_markup.replace(old, new)
    return svg_markup


def illustration_path(slug: str, frame: str, extension: str, version: int, scale: int = 1) -> str:
    suffix = "@2x" if scale == 2 else ""
    return f"/v1/exercises/{slug}/illustrations/{frame}{suffix}.{extension}?v={version}"


def frame_title(exercise: Exercise, frame_name: str) -> str:
    return f"{exercise.name}: {frame_name.replace('-', ' ')}"


def frame_description(exercise: Exercise, step: int) -> str:
    return f"Step {step}: {exercise.steps[step - 1]}"


def frame_alt(exercise: Exercise, frame_name: str, step: int) -> str:
    return f"{frame_title(exercise, frame_name)}. {frame_description(exercise, step)}"


def illustration_links(exercise: Exercise, version: int) -> list[dict[str, Any]]:
    """What the exercise's documents say of its pictures: frame, step, alt text and URLs."""
    if exercise.figure is None:
        return []
    slug = exercise.slug
    return [
        {
            "frame": frame.name,
            "step": frame.step,
            "alt": frame_alt(exercise, frame.name, frame.step),
            "svg_url": illustration_path(slug, frame.name, "svg", version),
            "png_url": illustration_path(slug, frame.name, "png", version),
            "png_2x_url": illustration_path(slug, frame.name, "png", version, scale=2),
        }
        for frame in exercise.figure.frames
    ]


@dataclass(eq=False)
class Drawings:
    """The exercise's frames drawn as SVG, each drawn once, on first use."""

    exercise: Exercise

    @cached_property
    def scene(self) -> Scene | None:
        figure = self.exercise.figure
        return None if figure is None else build_scene(figure)

    @cached_property
    def frame_index(self) -> dict[str, int]:
        figure = self.exercise.figure
        return {} if figure is None else {f.name: i for i, f in enumerate(figure.frames)}

    def __post_init__(self) -> None:
        self._svg: dict[str, str] = {}

    def svg(self, frame_name: str) -> str | None:
        """The frame's SVG document, or None for a frame the exercise does not have."""
        drawn = self._svg.get(frame_name)
        if drawn is not None:
            return drawn
        index = self.frame_index.get(frame_name)
        scene = self.scene
        if index is None or scene is None:
            return None
        frame = scene.frames[index].frame
        drawn = render_frame(
            scene,
            index,
            frame_title(self.exercise, frame.name),
            frame_description(self.exercise, frame.step),
        )
        self._svg[frame_name] = drawn
        return drawn
