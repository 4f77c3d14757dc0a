"""GET /v1/routines/{id}/handout: the printable sheet as HTML and as PDF, the referral sheet,
negotiation, caching headers, and a real browser's print layout."""

import base64
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import html5lib
import httpx
import image_files
import pypdf
import pytest
import segno
from fastapi.testclient import TestClient

from app.core.errors import ServiceUnavailableError
from app.core.security import Role
from app.core.settings import Settings
from app.domain.routines import Feedback
from app.handout import render
from app.handout.pdf_process import ProcessPdfRenderer, RenderFailedError, render_in_worker
from app.handout.service import render_pdf_in_thread
from app.handout.view import STOP_RULE, dosage_line, shared_caution, shared_cautions
from app.main import create_app

PROBLEM = "application/problem+json"
FULL_PROFILE = {
    "sensitivity": "flexion_sensitive",
    "level": "advanced",
    "minutes": 45,
    "phase": "recovering",
    "include_aerobic": True,
    "helper_available": True,
    "available_equipment": ["mat", "wall", "bed", "strap", "bicycle"],
    "target_areas": ["lower_back", "hamstrings"],
}
EXTERNAL_ATTRIBUTES = ("src", "href", "srcset", "data", "poster", "action", "background")


def create(client: TestClient | httpx.Client, **profile: Any) -> dict[str, Any]:
    response = client.post("/v1/routines", json=profile)
    assert response.status_code == 201, response.text
    routine: dict[str, Any] = response.json()
    return routine


@pytest.fixture(scope="module")
def routine(client: TestClient) -> dict[str, Any]:
    return create(client, **FULL_PROFILE)


@pytest.fixture(scope="module")
def referral(client: TestClient) -> dict[str, Any]:
    return create(client, red_flags=["fever", "strain_pain_beyond_two_weeks"])


def handout(client: TestClient, routine_id: str, **params: str) -> Any:
    response = client.get(f"/v1/routines/{routine_id}/handout", params=params)
    assert response.status_code == 200, response.text
    return response


def items(routine: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for block in routine["blocks"] for item in block["items"]]


def flat(text: str) -> str:
    return " ".join(text.split())


def pdf_pages(body: bytes) -> list[str]:
    """Each page's text, with ligatures (the "fl" in "flexor") back as letters."""
    reader = pypdf.PdfReader(io.BytesIO(body))
    return [flat(unicodedata.normalize("NFKC", page.extract_text())) for page in reader.pages]


def kept_together(pages: list[str], routine: dict[str, Any]) -> list[str]:
    """What is split across a page edge: an exercise (its name, dose and last step and own
    caution on one page; cautions it shares with others print once, above the exercises) or a
    block heading (with its first exercise)."""
    split = []
    shared = shared_cautions(routine)
    for block in routine["blocks"]:
        for index, item in enumerate(block["items"]):
            exercise = item["exercise"]
            start = f"{exercise['name']} {dosage_line(item)}"
            if index == 0:
                start = f"{block['title']} {start}"
            own = [c for c in exercise["cautions"] if not shared_caution(c, shared)]
            ends = [flat(exercise["steps"][-1]), *(flat(c) for c in own[-1:])]
            on = [page for page in pages if start in page]
            if len(on) != 1 or not all(end in on[0] for end in ends):
                split.append(start)
    return split


# --- HTML -------------------------------------------------------------------------------------


def test_the_html_handout_is_one_valid_self_contained_page(
    client: TestClient, routine: dict[str, Any]
) -> None:
    response = client.get(f"/v1/routines/{routine['id']}/handout", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    tree = parser.parse(response.text)  # raises on any HTML5 parse error
    assert tree.get("lang") == "en"
    elements = list(tree.iter())
    assert not [e for e in elements if e.tag in ("link", "script", "iframe", "img", "object")]
    for element in elements:
        for name, value in element.attrib.items():
            if name.split("}")[-1] in EXTERNAL_ATTRIBUTES:
                assert value.startswith(("#", "data:")), (element.tag, name, value)
    styles = " ".join(e.text or "" for e in elements if e.tag == "style")
    assert "url(" not in styles
    assert "@import" not in styles
    levels = [int(e.tag[1]) for e in elements if re.fullmatch(r"h[1-6]", str(e.tag))]
    assert levels[0] == 1
    assert all(b <= a + 1 for a, b in pairwise(levels)), levels


def test_the_html_handout_says_everything_safety_first(
    client: TestClient, routine: dict[str, Any]
) -> None:
    text = flat(handout(client, routine["id"], format="html").text)
    stop = text.index(STOP_RULE)
    assert "not medical advice" in text[stop:]
    for item in items(routine):
        name = item["exercise"]["name"]
        assert text.index(name) > stop
        assert dosage_line(item) in text
        for step in item["exercise"]["steps"]:
            assert flat(step) in text
    for citation in routine["citations"]:
        assert citation["title"] in text
    assert routine["frequency"]["routine"] in text
    if any(block["name"] == "aerobic" for block in routine["blocks"]):
        assert routine["frequency"]["aerobic"] in text
    assert "design choice" in text
    rows = len(items(routine)) + len(Feedback.model_fields)
    assert text.count('class="tick"') == rows * 7


def test_the_qr_code_opens_the_handout_at_the_public_base_url(
    fresh_database_url: str,
) -> None:
    settings = Settings(database_url=fresh_database_url, public_base_url="https://bc.example/")
    with TestClient(create_app(settings)) as client:
        routine_id = create(client)["id"]
        page = handout(client, routine_id).text
    url = f"https://bc.example/v1/routines/{routine_id}/handout"
    assert url in page
    expected = segno.make(url, error="m").svg_inline(scale=1, omitsize=True, svgclass="qrcode")
    assert expected in page


# --- PDF --------------------------------------------------------------------------------------


def test_the_pdf_holds_every_exercise_dose_and_the_stop_rule(
    client: TestClient, routine: dict[str, Any]
) -> None:
    response = client.get(
        f"/v1/routines/{routine['id']}/handout", headers={"Accept": "application/pdf"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    pages = pdf_pages(response.content)
    text = " ".join(pages)
    assert STOP_RULE in pages[0]
    for item in items(routine):
        assert item["exercise"]["name"] in text
        assert dosage_line(item) in text
    assert kept_together(pages, routine) == []
    page = pypdf.PdfReader(io.BytesIO(response.content)).pages[0]
    assert round(float(page.mediabox.width)) == 595  # A4 by default


def test_paper_sizes(client: TestClient, routine: dict[str, Any]) -> None:
    letter = handout(client, routine["id"], format="pdf", paper="letter").content
    first = pypdf.PdfReader(io.BytesIO(letter)).pages[0]
    assert (round(float(first.mediabox.width)), round(float(first.mediabox.height))) == (612, 792)
    page = handout(client, routine["id"], format="html", paper="letter").text
    assert "size: letter portrait" in page


def test_the_pdf_renders_to_png_pages(
    client: TestClient, routine: dict[str, Any], tmp_path: Path
) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("no pdftoppm (Debian: apt-get install poppler-utils)")
    body = handout(client, routine["id"], format="pdf").content
    (tmp_path / "handout.pdf").write_bytes(body)
    result = subprocess.run(
        ["pdftoppm", "-r", "30", "-png", tmp_path / "handout.pdf", tmp_path / "page"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    pngs = sorted(tmp_path.glob("page-*.png"))
    assert len(pngs) == len(pypdf.PdfReader(io.BytesIO(body)).pages)
    assert all(png.read_bytes().startswith(b"\x89PNG") for png in pngs)


# --- the referral sheet -----------------------------------------------------------------------


def test_a_referral_prints_as_a_see_a_provider_sheet_with_no_exercise(
    client: TestClient, referral: dict[str, Any]
) -> None:
    names = [e["name"] for e in client.get("/v1/exercises", params={"limit": 100}).json()["items"]]
    assert names
    page = handout(client, referral["id"], format="html").text
    text = flat(page)
    pdf = " ".join(pdf_pages(handout(client, referral["id"], format="pdf").content))
    for sheet in (text, pdf):
        assert "See a healthcare provider" in sheet
        for flag in referral["referral"]["red_flags"]:
            assert flag["question"] in sheet
        assert "get medical help straight away" in sheet
        assert not [name for name in names if name in sheet]
    assert 'class="exercise"' not in page
    assert "Your week" not in text


def test_a_routine_cleared_by_a_clinician_says_keep_your_follow_up_appointment(
    client: TestClient,
) -> None:
    cleared = create(
        client, red_flags=["strain_pain_beyond_two_weeks"], cleared_by_clinician=True, minutes=10
    )
    assert cleared["outcome"] == "routine"
    text = flat(handout(client, cleared["id"], format="html").text)
    assert "cleared you to exercise" in text
    assert "keep your follow-up appointment" in text
    assert cleared["referral"]["advice"] not in text
    assert text.index(STOP_RULE) < text.index("keep your follow-up appointment")
    for item in items(cleared):
        assert item["exercise"]["name"] in text


# --- negotiation and caching ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "accept", "expected"),
    [
        ({}, None, "text/html"),
        ({}, "*/*", "text/html"),
        ({}, "text/html,application/xhtml+xml,*/*;q=0.8", "text/html"),
        ({}, "application/pdf", "application/pdf"),
        ({}, "application/pdf;q=0.9, text/html;q=0.5", "application/pdf"),
        ({"format": "html"}, "application/pdf", "text/html"),
        ({"format": "pdf"}, None, "application/pdf"),
    ],
)
def test_format_from_query_or_accept(
    client: TestClient,
    routine: dict[str, Any],
    params: dict[str, str],
    accept: str | None,
    expected: str,
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get(f"/v1/routines/{routine['id']}/handout", params=params, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == expected
    assert "Accept" in [name.strip() for name in response.headers["vary"].split(",")]


@pytest.mark.parametrize(
    ("params", "accept", "field"),
    [
        ({"format": "docx"}, None, "format"),
        ({"format": "json"}, None, "format"),
        ({"paper": "a5"}, None, "paper"),
        ({"format": "pdf", "paper": "A4 "}, None, "paper"),
        ({}, "application/json", "Accept"),
        ({}, "image/png, text/plain", "Accept"),
    ],
)
def test_anything_else_is_406_naming_what(
    client: TestClient,
    routine: dict[str, Any],
    params: dict[str, str],
    accept: str | None,
    field: str,
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get(f"/v1/routines/{routine['id']}/handout", params=params, headers=headers)
    assert response.status_code == 406
    assert response.headers["content-type"] == PROBLEM
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_the_routine_itself_is_only_json(client: TestClient, routine: dict[str, Any]) -> None:
    """The handout is the routine's page; the routine's own URL answers JSON or, for an Accept
    that rules JSON out, 406 (pointing nobody at a page they did not ask for)."""
    for accept in ("*/*", "application/json", "text/html, */*;q=0.1"):
        response = client.get(f"/v1/routines/{routine['id']}", headers={"Accept": accept})
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {k: v for k, v in routine.items() if k != "delete_token"}
    for accept in ("text/html", "application/pdf"):
        response = client.get(f"/v1/routines/{routine['id']}", headers={"Accept": accept})
        assert response.status_code == 406
        assert response.headers["content-type"] == PROBLEM


def test_unknown_routine_and_unknown_parameter(client: TestClient) -> None:
    missing = client.get("/v1/routines/no-such-routine/handout", params={"format": "pdf"})
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    unknown = client.get("/v1/routines/no-such-routine/handout", params={"size": "a4"})
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["field"] == "size"


def test_write_once_caching(client: TestClient, routine: dict[str, Any]) -> None:
    url = f"/v1/routines/{routine['id']}/handout"
    tags = set()
    for params in ({"format": "html"}, {"format": "pdf"}, {"format": "pdf", "paper": "letter"}):
        first = client.get(url, params=params)
        again = client.get(url, params=params)
        assert first.headers["cache-control"] == "private, max-age=31536000, immutable"
        etag = first.headers["etag"]
        assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
        assert again.headers["etag"] == etag
        assert again.content == first.content
        tags.add(etag)
        for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
            cached = client.get(url, params=params, headers={"If-None-Match": header})
            assert cached.status_code == 304
            assert cached.content == b""
            assert cached.headers["etag"] == etag
        stale = client.get(url, params=params, headers={"If-None-Match": '"other"'})
        assert stale.status_code == 200
    assert len(tags) == 3


def test_another_process_renders_the_same_bytes_under_the_same_etag(
    client: TestClient, routine: dict[str, Any], database_url: str
) -> None:
    """Strong ETags hold across processes: a second app renders the handout afresh."""
    ours = handout(client, routine["id"], format="pdf")
    with TestClient(create_app(Settings(database_url=database_url))) as other:
        theirs = handout(other, routine["id"], format="pdf")
        assert other.app.state.runtime.handouts.cache.size > 0  # type: ignore[attr-defined]
    assert theirs.headers["etag"] == ours.headers["etag"]
    assert theirs.content == ours.content


def test_the_pdf_is_rendered_once_per_routine_and_paper(
    fresh_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[str] = []
    handouts = fresh_client.app.state.runtime.handouts  # type: ignore[attr-defined]

    async def counting(html: str) -> bytes:
        rendered.append(html)
        return await render_pdf_in_thread(html)

    monkeypatch.setattr(handouts, "pdf_renderer", counting)
    routine_id = create(fresh_client)["id"]
    for _ in range(3):
        for paper in ("a4", "letter"):
            handout(fresh_client, routine_id, format="pdf", paper=paper)
    assert len(rendered) == 2


# --- a real browser prints it -----------------------------------------------------------------

BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]


def chromium_path() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def test_chromium_prints_no_exercise_split_across_a_page_edge(store: Any, live_server: str) -> None:
    if store.kind != "sqlite":
        pytest.skip("the browser test runs on the SQLite store only, to keep the suite fast")
    executable = chromium_path()
    if executable is None:
        pytest.skip("no chromium executable (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with httpx.Client(base_url=live_server) as api:
        routine = create(api, **FULL_PROFILE)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=BROWSER_ARGS
        )
        try:
            page = browser.new_page()
            page.goto(f"{live_server}/v1/routines/{routine['id']}/handout")
            page.emulate_media(media="print")
            breaks = page.eval_on_selector_all(
                "article.exercise, .keep",
                "nodes => nodes.map(n => getComputedStyle(n).breakInside)",
            )
            assert len(breaks) == len(items(routine)) + len(routine["blocks"])
            assert set(breaks) == {"avoid"}
            printed = {paper: page.pdf(format=paper) for paper in ("A4", "Letter")}
        finally:
            browser.close()
    for body in printed.values():
        pages = pdf_pages(body)
        assert len(pages) > 1
        assert kept_together(pages, routine) == []


def test_without_weasyprints_libraries_the_pdf_is_503_and_the_html_still_works(
    fresh_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    handouts = fresh_client.app.state.runtime.handouts  # type: ignore[attr-defined]
    # in this process, which sees the patched modules
    monkeypatch.setattr(handouts, "pdf_renderer", render_pdf_in_thread)
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import fails, as without pango
    render.weasyprint.cache_clear()
    try:
        routine_id = create(fresh_client)["id"]
        pdf = fresh_client.get(f"/v1/routines/{routine_id}/handout", params={"format": "pdf"})
        assert pdf.status_code == 503
        assert pdf.headers["content-type"] == PROBLEM
        assert "HTML handout works" in pdf.json()["detail"]
        assert handout(fresh_client, routine_id, format="html").status_code == 200
    finally:
        render.weasyprint.cache_clear()


def test_a_pdf_is_rendered_in_a_worker_process_and_a_dead_worker_costs_one_request_503(
    fresh_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    renderer = fresh_client.app.state.runtime.handouts.pdf_renderer  # type: ignore[attr-defined]
    assert isinstance(renderer, ProcessPdfRenderer)
    first, second = create(fresh_client)["id"], create(fresh_client)["id"]
    body = handout(fresh_client, first, format="pdf", paper="a4").content
    assert body.startswith(b"%PDF-")
    pool = renderer._current()
    for pid in list(pool._processes):  # the worker dies as a crash would kill it
        os.kill(pid, signal.SIGKILL)
    stopped = fresh_client.get(f"/v1/routines/{second}/handout", params={"format": "pdf"})
    assert stopped.status_code == 503
    assert stopped.headers["content-type"] == PROBLEM
    assert "Retry-After" in stopped.headers
    again = handout(fresh_client, second, format="pdf", paper="letter").content
    assert again.startswith(b"%PDF-")


def test_a_failed_render_in_a_worker_comes_back_as_a_plain_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(html: str) -> bytes:
        raise ServiceUnavailableError("PDF handouts are not available here")

    monkeypatch.setattr("app.handout.pdf_process.render_pdf", broken)
    with pytest.raises(RenderFailedError, match="not available here") as raised:
        render_in_worker("<p>x</p>")
    assert raised.value.__cause__ is None


def test_each_exercise_is_drawn_beside_its_steps(
    client: TestClient, routine: dict[str, Any]
) -> None:
    """Each exercise's last key frame (the one before it faint, an arrow between) sits in the
    picture column, inline, with its own ids; the PDF carries them too."""
    page = client.get(f"/v1/routines/{routine['id']}/handout", params={"format": "html"}).text
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    tree = parser.parse(page)
    articles = [e for e in tree.iter() if e.tag == "article"]
    items = [item for block in routine["blocks"] for item in block["items"]]
    assert len(articles) == len(items)
    for article, item in zip(articles, items, strict=True):
        (figure,) = [e for e in article if e.tag == "figure"]
        assert figure.get("class") == "picture"
        (svg,) = [e for e in figure.iter() if str(e.tag).endswith("svg")]
        slug = item["exercise"]["slug"]
        assert svg.get("aria-labelledby") == f"{slug}-t {slug}-d"
    ids = [e.get("id") for e in tree.iter() if e.get("id")]
    assert len(ids) == len(set(ids)), "no two elements share an id"
    pdf = client.get(f"/v1/routines/{routine['id']}/handout", params={"format": "pdf"})
    assert pdf.status_code == 200


def test_an_exercise_with_an_editors_image_prints_it_with_its_credit(
    fresh_client: TestClient,
    fresh_database_url: str,
    issue_key: Callable[..., dict[str, str]],
) -> None:
    """The image is inline (the page stays self-contained), in place of the drawing, with the
    credit line its licence asks for; the PDF carries it and still fits on two A4 pages. Once the
    image is removed (its file deleted) the sheet shows the drawing, under a new ETag."""
    editor = issue_key(fresh_database_url, "handout-editor", Role.editor)
    attribution = {
        **image_files.ATTRIBUTION,
        "license": "CC-BY-SA-4.0",
        "alt": "A person lying on their back, sliding one heel towards them.",
    }
    attached = image_files.upload(
        fresh_client, "heel-slides", editor, image_files.jpeg((800, 600)), **attribution
    )
    assert attached.status_code == 201, attached.text
    routine = create(fresh_client, sensitivity="none", minutes=15, seed=1)
    slugs = [item["exercise"]["slug"] for item in items(routine)]
    assert "heel-slides" in slugs
    page = handout(fresh_client, routine["id"], format="html").text
    tree = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(page)
    (image,) = [e for e in tree.iter() if e.tag == "img"]
    thumbnail = fresh_client.get(attached.json()["thumbnail_url"]).content
    assert image.get("src") == "data:image/jpeg;base64," + base64.b64encode(thumbnail).decode()
    assert image.get("alt") == attribution["alt"]
    articles = [e for e in tree.iter() if e.tag == "article"]
    pictured = articles[slugs.index("heel-slides")]
    assert not [e for e in pictured.iter() if str(e.tag).endswith("svg")]
    credit = f"Image: A. Physio, CC-BY-SA-4.0, {attribution['source_url']}"
    assert credit in page
    pdf = handout(fresh_client, routine["id"], format="pdf").content
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) <= 2
    assert any(page.images for page in reader.pages)
    assert "A. Physio, CC-BY-SA-4.0" in " ".join(pdf_pages(pdf))

    printed = handout(fresh_client, routine["id"], format="html")
    removed = fresh_client.delete(
        f"/v1/exercises/heel-slides/media/{attached.json()['id']}", headers=editor
    )
    assert removed.status_code == 204, removed.text
    again = handout(fresh_client, routine["id"], format="html")
    assert again.headers["etag"] != printed.headers["etag"], "the sheet changed, so its tag did"
    assert "<img" not in again.text
    assert credit not in again.text
    stale = fresh_client.get(
        f"/v1/routines/{routine['id']}/handout",
        params={"format": "html"},
        headers={"If-None-Match": printed.headers["etag"]},
    )
    assert stale.status_code == 200
