"""A handout view rendered to one self-contained HTML page (inline CSS, the QR code as inline SVG,
no external assets), and to PDF by WeasyPrint from that same HTML."""

import hashlib
import logging
from enum import StrEnum
from functools import cache
from pathlib import Path

import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from app.core.errors import ServiceUnavailableError
from app.domain.routines import feedback, rules
from app.handout.view import LOG_NOTE, HandoutView

logger = logging.getLogger("app.handout")

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE_NAME = "handout.html"
ENVIRONMENT = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True),
    trim_blocks=False,
    auto_reload=False,
)


class Paper(StrEnum):
    a4 = "a4"
    letter = "letter"


CSS_PAPER = {Paper.a4: "A4", Paper.letter: "letter"}


def template_digest() -> str:
    """Changes whenever the template or the code that fills it changes (the rules' kinds and the
    feedback questions included): part of every ETag."""
    digest = hashlib.sha256()
    for path in (
        TEMPLATES / TEMPLATE_NAME,
        Path(__file__),
        Path(__file__).with_name("view.py"),
        Path(rules.__file__),
        Path(feedback.__file__),
    ):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def qr_svg(url: str) -> Markup:
    """The QR code for `url` as inline SVG that scales to its box (viewBox, no fixed size)."""
    svg = segno.make(url, error="m").svg_inline(scale=1, omitsize=True, svgclass="qrcode")
    return Markup(svg)  # noqa: S704 - segno's own markup: shapes only, no text from the URL


def render_html(view: HandoutView, paper: Paper | None) -> str:
    """The handout page. `paper` fixes the printed page size; None leaves it to the printer."""
    return ENVIRONMENT.get_template(TEMPLATE_NAME).render(
        view=view,
        paper=CSS_PAPER[paper] if paper else None,
        qr_svg=qr_svg(view.url),
        arrangement_note=view.arrangement_note,
        log_note=LOG_NOTE,
    )


def render_pdf(html: str) -> bytes:
    """The PDF of a handout page rendered by `render_html` (its @page rule sets the paper).

    Blocking and CPU-bound (hundreds of milliseconds): call it from a worker thread.
    """
    pdf: bytes = weasyprint().HTML(string=html, base_url=None).write_pdf()
    return pdf


def warm_up() -> None:
    """Import WeasyPrint and lay out a line of text (loading pango and the fonts): about a second
    that the first PDF request of a process would otherwise wait for."""
    try:
        weasyprint().HTML(string="<p>Backcare</p>").render()
    except ServiceUnavailableError as error:
        logger.warning("%s", error.detail)


@cache
def weasyprint():  # type: ignore[no-untyped-def]
    """WeasyPrint, imported on first use: it loads pango, which the HTML handout never needs."""
    try:
        import weasyprint as module
    except (ImportError, OSError) as error:
        raise ServiceUnavailableError(
            "PDF handouts are not available on this server: WeasyPrint cannot load its system "
            f"libraries ({str(error).splitlines()[0][:200]}). The HTML handout works."
        ) from error
    return module
