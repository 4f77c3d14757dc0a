"""/docs and /redoc work offline: every asset they load is served by the app itself (from the
fastapi-offline package), and a real browser that may reach nothing else renders both."""

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

PAGES = ["/docs", "/redoc"]
REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*'([^']+)'""")
ASSET_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


def references(html: str) -> list[str]:
    return [first or second for first, second in REFERENCE.findall(html)]


@pytest.mark.parametrize("path", PAGES)
def test_the_pages_reference_only_same_origin_assets(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    found = references(page.text)
    assert len(found) >= 2
    for reference in found:
        parts = urlsplit(reference)
        assert not parts.scheme, reference
        assert not parts.netloc, reference
        assert reference.startswith("/"), reference
    assert "googleapis" not in page.text
    assert "cdn." not in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]


@pytest.mark.parametrize("path", PAGES)
def test_every_asset_they_reference_is_served(client: TestClient, path: str) -> None:
    for reference in references(client.get(path).text):
        response = client.get(reference)
        assert response.status_code == 200, reference
        suffix = Path(reference).suffix
        if suffix in ASSET_TYPES:
            assert response.headers["content-type"].startswith(ASSET_TYPES[suffix])
            assert len(response.content) > 1000


def test_the_assets_are_not_operations_of_the_contract(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith(("/docs", "/redoc", "/static"))]


# --- a browser that can reach nothing but the app ----------------------------------------------

BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]


@pytest.fixture
def offline_page(store: Any, live_server: str) -> Iterator[tuple[Any, list[str]]]:
    """A Chromium page whose requests to anywhere but the live server are aborted and listed."""
    if store.kind != "sqlite":
        pytest.skip("the browser test runs on the SQLite store only, to keep the suite fast")
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("no chromium executable (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    elsewhere: list[str] = []

    def only_the_app(route: Any) -> None:
        if route.request.url.startswith(live_server):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=BROWSER_ARGS
        )
        try:
            page = browser.new_page()
            page.route("**/*", only_the_app)
            yield page, elsewhere
        finally:
            browser.close()


def test_a_browser_offline_renders_both(
    live_server: str, offline_page: tuple[Any, list[str]]
) -> None:
    page, elsewhere = offline_page
    page.goto(urljoin(live_server, "/docs"))
    page.wait_for_selector(".opblock-summary", timeout=30_000)
    assert page.locator("text=List exercises").count() >= 1
    page.goto(urljoin(live_server, "/redoc"))
    page.wait_for_selector("h1:has-text('Backcare API')", timeout=30_000)
    assert page.locator("text=List exercises").count() >= 1
    assert elsewhere == []
    assert httpx.get(urljoin(live_server, "/docs")).status_code == 200
