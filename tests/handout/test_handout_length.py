"""A 15-minute routine prints on two A4 pages, pictures and all: PDF handouts of random
15-minute routines over the real seeded catalogue, each exercise drawn as the served handout
draws it, counted page by page."""

import io

import pypdf
from hypothesis import given, settings
from seeded import seeded_catalogue, seeds
from test_handout_safety_properties import URL, document, profiles

from app.domain.routines import Profile
from app.handout.render import Paper, render_html, render_pdf
from app.handout.view import handout_view
from app.services.illustrations import movement_picture

MAX_PAGES = 2


def picture(slug: str, version: int) -> str | None:
    entry = seeded_catalogue().get(slug)
    return None if entry is None else movement_picture(entry)


@settings(max_examples=5, deadline=None)
@given(profiles, seeds)
def test_a_fifteen_minute_routine_prints_on_two_a4_pages(profile: Profile, seed: int) -> None:
    routine = document(profile.model_copy(update={"minutes": 15}), seed)
    view = handout_view(routine, URL, picture)
    assert all(exercise.picture for block in view.blocks for exercise in block.exercises)
    pdf = render_pdf(render_html(view, Paper.a4))
    pages = len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
    exercises = [item["exercise"]["slug"] for block in routine["blocks"] for item in block["items"]]
    assert pages <= MAX_PAGES, (pages, exercises, routine["profile"])
