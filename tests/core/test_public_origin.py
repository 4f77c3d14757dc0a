"""With PUBLIC_BASE_URL set, absolute links name it, whatever Host a client sends."""

from fastapi.testclient import TestClient

from app.core.settings import Settings
from app.main import create_app

PUBLIC = "https://api.example.org"


def test_links_follow_the_public_base_url_not_the_host_header(database_url: str) -> None:
    settings = Settings(database_url=database_url, public_base_url=PUBLIC)
    evil = {"Host": "evil.example"}
    with TestClient(create_app(settings)) as client:
        page = client.get("/v1/exercises", params={"limit": 2}, headers=evil)
        assert page.headers["link"].startswith(f"<{PUBLIC}/v1/exercises?"), page.headers["link"]
        bundle = client.get("/fhir/r4/ActivityDefinition", params={"_count": 2}, headers=evil)
        document = bundle.json()
        assert all(e["fullUrl"].startswith(f"{PUBLIC}/fhir/r4/") for e in document["entry"])
        assert all(link["url"].startswith(f"{PUBLIC}/fhir/r4/") for link in document["link"])
        assert "evil.example" not in bundle.text


def test_unset_the_links_follow_the_request(database_url: str) -> None:
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        page = client.get("/v1/exercises", params={"limit": 2})
        assert page.headers["link"].startswith("<http://testserver/v1/exercises?")
