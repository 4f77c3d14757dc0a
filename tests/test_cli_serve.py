"""`python -m app serve` trusts a reverse proxy's forwarded headers only when FORWARDED_ALLOW_IPS
names it, so paging links keep https behind a proxy and cannot be spoofed without one."""

import sys
from collections.abc import Callable
from contextlib import AbstractContextManager

import httpx
import pytest

SERVE = [sys.executable, "-m", "app", "serve", "--port", "{port}"]


@pytest.mark.parametrize(
    ("environment", "scheme"),
    [({}, "<http://"), ({"FORWARDED_ALLOW_IPS": "127.0.0.1"}, "<https://")],
    ids=["untrusted", "trusted-proxy"],
)
def test_links_follow_forwarded_proto_only_from_a_trusted_proxy(
    database_url: str,
    environment: dict[str, str],
    scheme: str,
    server_runner: Callable[..., AbstractContextManager[str]],
) -> None:
    with server_runner(database_url, SERVE, LOG_LEVEL="warning", **environment) as base:
        response = httpx.get(
            f"{base}/v1/exercises", params={"limit": 2}, headers={"X-Forwarded-Proto": "https"}
        )
    assert response.status_code == 200, response.text
    assert response.headers["link"].startswith(scheme)
