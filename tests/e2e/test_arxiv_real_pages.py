"""Recorded formats of the real arXiv sites, served over HTTP and read by the real `digest run`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_end_to_end import run_json
from tests.servers import PageServer, Reply
from tests.support import fixture


def test_an_arxiv_api_400_shows_arxivs_own_message_not_the_xml(tmp_path: Path) -> None:
    with PageServer() as server:
        url = server.route("/api/query?id_list=abc", Reply(fixture("arxiv_api_error_400.xml"), 400))
        report = run_json(tmp_path, "--source", url, expect=1)
    (source,) = report["sources"]
    assert source["status"] == "failed" and source["kind"] == "arxiv-api"
    assert source["error"].endswith(
        "HTTP 400 from " + url + ": arXiv says: incorrect id format for abc"
    )
    assert "<" not in source["error"]


@pytest.mark.parametrize("period", ["2503", "2025"])
def test_month_and_year_listings_are_read_like_recent(tmp_path: Path, period: str) -> None:
    with PageServer() as server:
        page = fixture("arxiv_list_cs.LG_2503.html")
        url = server.route(
            f"/list/cs.LG/{period}", Reply(page, headers={"Content-Type": "text/html"})
        )
        report = run_json(tmp_path, "--source", url)
    (source,) = report["sources"]
    assert (source["status"], source["kind"], source["found"]) == ("ok", "arxiv-list", 3)


def test_a_page_holding_dl_articles_is_a_listing_even_without_its_wrapper(tmp_path: Path) -> None:
    page = fixture("arxiv_list_cs.LG_2503.html").replace(b"id='dlpage'", b"class='listing'")
    saved = tmp_path / "saved.html"
    saved.write_bytes(page)
    report = run_json(tmp_path, "--source", str(saved))
    (source,) = report["sources"]
    assert source["status"] == "ok" and source["found"] == 3
    assert "no listing data" not in (source["error"] or "")
