"""HTTP details a validator or curl finds: page validators and gzip, CORS preflight, HSTS only over https."""

from __future__ import annotations

from pathlib import Path

import httpx

from digest.web import create_app
from tests.web_server import EXAMPLES, MONDAY, Clock, digest_run, live_server


def test_day_pages_and_the_archive_get_a_strong_etag_304_and_gzip(tmp_path: Path) -> None:
    with (
        live_server(tmp_path, lambda s: create_app(s, clock=Clock(MONDAY))) as server,
        httpx.Client(base_url=server.base) as client,
    ):
        digest_run(server.config, EXAMPLES / "hf-daily-2025-03-12.json", now=MONDAY)
        for path in ("/digests/2026-11-30", "/digests/"):
            page = client.get(path, headers={"Accept-Encoding": "gzip"})
            plain = client.get(path, headers={"Accept-Encoding": "identity"})
            again = client.get(path, headers={"If-None-Match": page.headers["etag"]})

            assert page.status_code == 200 and page.headers["content-encoding"] == "gzip", path
            assert page.headers["etag"].startswith('"'), "strong, not W/"
            assert plain.headers["etag"] != page.headers["etag"]  # two representations
            assert "content-encoding" not in plain.headers and plain.text == page.text
            assert again.status_code == 304 and again.content == b""
            assert again.headers["content-security-policy"], "security headers on the 304 too"
        changed = client.get("/digests/2026-11-30", headers={"If-None-Match": '"nope"'})
    assert changed.status_code == 200


def test_feeds_answer_the_cors_preflight_of_a_web_reader(tmp_path: Path) -> None:
    with (
        live_server(tmp_path, lambda s: create_app(s, clock=Clock(MONDAY))) as server,
        httpx.Client(base_url=server.base) as client,
    ):
        preflight = client.options(
            "/feed.json",
            headers={"Origin": "https://reader.example", "Access-Control-Request-Method": "GET",
                     "Access-Control-Request-Headers": "if-none-match"},
        )  # fmt: skip
        feed = client.get("/feed.atom", headers={"Origin": "https://reader.example"})
        page = client.options("/digests/")

    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "If-None-Match" in preflight.headers["access-control-allow-headers"]
    assert preflight.headers["allow"] == "GET, HEAD, OPTIONS"
    assert feed.headers["access-control-allow-origin"] == "*"
    assert feed.headers["access-control-expose-headers"] == "ETag"
    assert page.status_code == 405 and page.headers["allow"] == "GET, HEAD"


def test_hsts_only_when_the_request_came_over_https(tmp_path: Path) -> None:
    sections = {"site": {"base_url": "https://papers.example.org"}}
    with (
        live_server(
            tmp_path, lambda s: create_app(s, clock=Clock(MONDAY)), sections=sections
        ) as server,
        httpx.Client(base_url=server.base) as client,
    ):
        # Twice each: rendered, then answered from the page cache before the middleware.
        over_http = [client.get("/digests/") for _ in range(2)]
        # What a TLS proxy on 127.0.0.1 (uvicorn's trusted default) says of the original request.
        forwarded = {"X-Forwarded-Proto": "https"}
        over_https = [client.get("/digests/", headers=forwarded) for _ in range(2)]

    for answer in over_http:
        assert "strict-transport-security" not in answer.headers
        assert answer.headers["x-frame-options"] == "DENY"
    for answer in over_https:
        assert answer.headers["strict-transport-security"] == "max-age=31536000"
        assert answer.headers.get_list("x-frame-options") == ["DENY"]  # once, not twice
