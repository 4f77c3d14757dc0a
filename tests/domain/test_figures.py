"""Every seeded exercise is drawn, and its drawing is checked as a program can: a body in human
range, resting on its surface, lying when it lies, flexing or extending the lumbar spine as the
exercise's flag says, showing the side the steps name. Each frame's SVG is parsed and read."""

from functools import cache
from xml.etree import ElementTree

import pytest
from seeded import SEED_DIR

from app.content.bundle import load_seed_directory
from app.domain.exercise import Exercise
from app.domain.figure.checks import figure_problems
from app.domain.figure.illustrations import Drawings, illustration_links
from app.domain.figure.model import Figure
from app.domain.vocabulary import SpinalMotion, Status

SVG = "{http://www.w3.org/2000/svg}"
MAX_SVG_BYTES = 8 * 1024


@cache
def seeded() -> dict[str, Exercise]:
    return {e.slug: e for e in load_seed_directory(SEED_DIR).exercises}


SLUGS = sorted(
    p.stem for p in (SEED_DIR / "exercises").glob("*.yaml") if not p.name.endswith(".media.yaml")
)


@pytest.mark.parametrize("slug", SLUGS)
def test_every_published_exercise_has_a_start_and_an_end_frame(slug: str) -> None:
    exercise = seeded()[slug]
    assert exercise.status is Status.published
    assert exercise.figure is not None
    assert len(exercise.figure.frames) >= 2


@pytest.mark.parametrize("slug", SLUGS)
def test_the_figure_passes_every_check(slug: str) -> None:
    assert figure_problems(seeded()[slug]) == []


@pytest.mark.parametrize("slug", SLUGS)
def test_every_frame_renders_as_a_small_accessible_svg(slug: str) -> None:
    exercise = seeded()[slug]
    drawings = Drawings(exercise)
    links = illustration_links(exercise, 1)
    assert exercise.figure is not None
    for frame, link in zip(exercise.figure.frames, links, strict=True):
        svg = drawings.svg(frame.name)
        assert svg is not None
        assert len(svg.encode()) < MAX_SVG_BYTES
        root = ElementTree.fromstring(svg)
        assert root.tag == f"{SVG}svg"
        assert root.get("role") == "img"
        title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
        assert title is not None
        assert title.text == f"{exercise.name}: {frame.name}"
        assert desc is not None
        assert exercise.steps[frame.step - 1] in (desc.text or "")
        assert root.find(f"{SVG}text") is None, "no text: nothing needs a font"
        assert link["frame"] == frame.name
        assert link["step"] == frame.step
        assert exercise.steps[frame.step - 1] in link["alt"]


def test_a_frame_the_exercise_does_not_have_is_not_drawn() -> None:
    assert Drawings(seeded()["cat-stretch"]).svg("middle") is None


def with_figure(slug: str, change: dict[str, object]) -> Exercise:
    document = seeded()[slug].model_dump(mode="json", exclude_defaults=True)
    figure = document["figure"]
    for path, value in change.items():
        target = figure
        *parents, last = path.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[last] = value
    return Exercise.model_validate(document)


def test_a_flexion_exercise_that_does_not_flex_is_caught() -> None:
    exercise = with_figure("cat-stretch", {"frames.1.pose.lumbar": -5})
    assert exercise.spinal_motion is SpinalMotion.flexion
    assert any("flexion exercise" in p for p in figure_problems(exercise))


def test_an_extension_exercise_that_does_not_extend_is_caught() -> None:
    exercise = with_figure(
        "prone-back-extension", {"frames.1.pose.lumbar": 0, "frames.2.pose.lumbar": 0}
    )
    assert any("extension exercise" in p for p in figure_problems(exercise))


def test_a_limb_through_the_floor_is_caught() -> None:
    exercise = with_figure(
        "heel-slides",
        {
            "frames.1.rests": {"back": "surface"},
            "frames.1.pose.knee": {"left": 0, "right": 0},
            "frames.1.pose.hip": {"left": -25, "right": -25},
        },
    )
    assert any("through the floor" in p or "off the" in p for p in figure_problems(exercise))


def test_a_lying_figure_that_does_not_lie_is_caught() -> None:
    exercise = with_figure("back-flattening", {"frames.0.pose.pelvis": 120})
    assert any("does not lie" in p for p in figure_problems(exercise))


def test_the_wrong_side_is_caught() -> None:
    exercise = with_figure("active-hamstring-stretch", {"frames.2.side": "left"})
    assert any("step 4 says right" in p for p in figure_problems(exercise))


def test_a_per_side_exercise_must_show_its_side() -> None:
    document = seeded()["single-knee-to-chest"].model_dump(mode="json", exclude_defaults=True)
    for frame in document["figure"]["frames"]:
        frame.pop("side", None)
    with pytest.raises(ValueError, match="each side must show the side"):
        Exercise.model_validate(document)


def test_a_joint_beyond_its_range_is_refused() -> None:
    document = seeded()["cat-stretch"].model_dump(mode="json", exclude_defaults=True)
    document["figure"]["frames"][0]["pose"]["knee"] = 170
    with pytest.raises(ValueError, match=r"knee \(left\) at 170 degrees is outside"):
        Figure.model_validate(document["figure"])


def test_a_frame_must_show_a_step_the_exercise_has() -> None:
    document = seeded()["cat-stretch"].model_dump(mode="json", exclude_defaults=True)
    document["figure"]["frames"][1]["step"] = 40
    with pytest.raises(ValueError, match="shows step 40, but there are 6 steps"):
        Exercise.model_validate(document)
