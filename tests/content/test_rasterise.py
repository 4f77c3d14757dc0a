"""Every frame of every seeded exercise rendered to PNG at both scales: a picture of the right
size with a figure in it (so a reviewer, or CI, sees that each one draws)."""

import io

import pytest
from PIL import Image
from seeded import SEED_DIR

from app.content.bundle import load_seed_directory
from app.content.rasterise import svg_to_png
from app.domain.exercise import Exercise
from app.domain.figure.illustrations import Drawings
from app.domain.figure.svg import INK, WIDTH_PX

EXERCISES = load_seed_directory(SEED_DIR).exercises


def ink_pixels(image: Image.Image) -> int:
    """How many pixels are the figure's own colour (give or take anti-aliasing)."""
    target = tuple(int(INK[i : i + 2], 16) for i in (1, 3, 5))
    rgb = image.convert("RGB")
    total = 0
    for count, colour in rgb.getcolors(rgb.width * rgb.height) or []:
        assert isinstance(colour, tuple)
        if all(abs(a - b) <= 8 for a, b in zip(colour, target, strict=True)):
            total += count
    return total


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.slug)
def test_every_frame_renders_to_png_at_one_and_two_times(exercise: Exercise) -> None:
    drawings = Drawings(exercise)
    assert exercise.figure is not None
    for frame in exercise.figure.frames:
        svg = drawings.svg(frame.name)
        assert svg is not None
        for scale in (1, 2):
            image = Image.open(io.BytesIO(svg_to_png(svg, scale)))
            assert image.format == "PNG"
            assert image.width == WIDTH_PX * scale
            assert 0.3 * image.width < image.height < 1.5 * image.width
            assert ink_pixels(image) > 300 * scale * scale, f"{exercise.slug} {frame.name}"
