"""The fetcher is polite and persistent: it retries what is worth retrying and says why it gave up."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import httpx
import pytest

from digest import USER_AGENT
from digest.errors import FetchError
from digest.history import HttpValidators
from digest.sources.fetch import Fetcher, open_client, read_local
from tests.servers import Reply, page_server


class FakeTime:
    """A clock that only moves when the fetcher sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def fetcher(
    handler: Callable[[httpx.Request], httpx.Response], **options: float
) -> tuple[Fetcher, FakeTime]:
    fake = FakeTime()
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return (
        Fetcher(client, sleep=fake.sleep, clock=fake.clock, rng=random.Random(1), **options),  # type: ignore[arg-type]
        fake,
    )


def scripted(*responses: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    queue = list(responses)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return queue.pop(0) if len(queue) > 1 else queue[0]

    handler.seen = seen  # type: ignore[attr-defined]
    return handler


def test_a_503_with_retry_after_is_retried_after_the_asked_wait() -> None:
    handler = scripted(
        httpx.Response(503, headers={"Retry-After": "7"}), httpx.Response(200, content=b"[]")
    )
    client, fake = fetcher(handler, host_interval=0)
    response = client.get("https://example.org/list", source="s")
    assert response.status == 200
    assert fake.sleeps == [7.0]


def test_hugging_face_ratelimit_reset_is_honoured() -> None:
    handler = scripted(
        httpx.Response(429, headers={"RateLimit": '"api";r=0;t=55'}),
        httpx.Response(200, content=b"[]"),
    )
    client, fake = fetcher(handler, host_interval=0)
    client.get("https://hf.example/api/daily_papers", source="s")
    assert fake.sleeps == [55.0]


def test_a_wait_longer_than_the_deadline_fails_the_source_with_the_reason() -> None:
    client, _ = fetcher(scripted(httpx.Response(429, headers={"Retry-After": "3600"})), deadline=60)
    with pytest.raises(FetchError, match=r"HTTP 429 .*asked to wait 3600 s"):
        client.get("https://example.org/x", source="my source")


def test_backoff_grows_and_gives_up_after_the_retries() -> None:
    client, fake = fetcher(scripted(httpx.Response(502)), retries=3, host_interval=0)
    with pytest.raises(FetchError, match=r"HTTP 502 .* gave up after 4 attempt"):
        client.get("https://example.org/x", source="s")
    assert len(fake.sleeps) == 3
    assert fake.sleeps[0] < fake.sleeps[1] < fake.sleeps[2]


def test_a_404_is_not_retried_and_names_the_url() -> None:
    handler = scripted(httpx.Response(404, content=b"no such list"))
    client, fake = fetcher(handler)
    with pytest.raises(
        FetchError, match=r"HTTP 404 from https://example.org/list/cs.XX/new: no such list"
    ):
        client.get("https://example.org/list/cs.XX/new", source="s")
    assert fake.sleeps == []


def test_connect_errors_are_retried() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, content=b"ok")

    client, _ = fetcher(handler)
    assert client.get("https://example.org/", source="s").payload == b"ok"


def test_conditional_headers_are_sent_verbatim() -> None:
    handler = scripted(httpx.Response(304))
    client, _ = fetcher(handler)
    validators = HttpValidators(etag='W/"abc"', last_modified="Wed, 12 Mar 2025 04:00:21 GMT")
    assert client.get("https://example.org/", source="s", validators=validators).status == 304
    request = handler.seen[0]  # type: ignore[attr-defined]
    assert request.headers["If-None-Match"] == 'W/"abc"'
    assert request.headers["If-Modified-Since"] == "Wed, 12 Mar 2025 04:00:21 GMT"


def test_arxiv_hosts_are_paced_three_seconds_apart() -> None:
    client, fake = fetcher(scripted(httpx.Response(200)), host_interval=0)
    client.get("https://export.arxiv.org/api/query?a", source="s")
    client.get("https://export.arxiv.org/api/query?b", source="s")
    assert fake.sleeps == [3.0]


def test_all_arxiv_hosts_share_one_pace() -> None:
    client, fake = fetcher(scripted(httpx.Response(200)), host_interval=0)
    client.get("https://export.arxiv.org/api/query?a", source="api")
    client.get("https://rss.arxiv.org/rss/cs.LG", source="rss")
    client.get("https://huggingface.co/api/daily_papers", source="hf")
    assert fake.sleeps == [3.0]


def test_a_backoff_past_the_deadline_gives_up_without_blaming_the_server() -> None:
    client, _ = fetcher(scripted(httpx.Response(502)), retries=5, deadline=1.5, host_interval=0)
    with pytest.raises(FetchError) as caught:
        client.get("https://example.org/x", source="s")
    assert "gave up after 2 attempt(s)" in str(caught.value)
    assert "asked to wait" not in str(caught.value)


def test_a_body_still_trickling_in_when_the_deadline_passes_fails_the_source() -> None:
    fake = FakeTime()

    def trickle() -> Iterator[bytes]:
        for _ in range(10):
            # Every chunk comes within the read timeout; all of them take far beyond the deadline.
            fake.now += 1.0
            yield b"<rss>"

    client = httpx.Client(
        transport=httpx.MockTransport(lambda request: httpx.Response(200, content=trickle()))
    )
    slow = Fetcher(client, deadline=3, sleep=fake.sleep, clock=fake.clock)
    with pytest.raises(
        FetchError, match=r"still reading https://example.org/slow when the source's 3 s ran out"
    ):
        slow.get("https://example.org/slow", source="s")


def test_a_body_that_cannot_be_decoded_is_a_fetch_error_not_a_crash() -> None:
    not_gzip = httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=iter([b"plain"]))
    client, _ = fetcher(scripted(not_gzip))
    with pytest.raises(FetchError, match=r"cannot decode the gzip body from https://example.org/x"):
        client.get("https://example.org/x", source="s")


def test_a_redirect_loop_is_a_fetch_error_not_a_crash() -> None:
    loop = httpx.MockTransport(
        lambda request: httpx.Response(302, headers={"Location": str(request.url)})
    )
    client = Fetcher(httpx.Client(transport=loop, follow_redirects=True, max_redirects=3))
    with pytest.raises(FetchError, match=r"TooManyRedirects.* fetching https://example.org/a"):
        client.get("https://example.org/a", source="s")


def test_a_folder_is_read_in_name_order(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "b.txt").write_text("second")
    (tmp_path / "a.txt").write_text("first")
    (tmp_path / ".hidden").write_text("ignored")
    assert [d.payload for d in read_local(str(tmp_path), source="s")] == [b"first", b"second"]


def test_a_missing_file_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FetchError, match="no such file or folder"):
        read_local(f"file://{tmp_path}/nope.txt", source="s")


@pytest.mark.parametrize(
    "location",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "ftp://example.org/listing",
        "http://[::1",
    ],
)
def test_a_redirect_to_anything_but_http_fails_at_once_naming_the_url(location: str) -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(302, headers={"Location": location})

    fake = FakeTime()
    client = Fetcher(
        httpx.Client(transport=httpx.MockTransport(handler), follow_redirects=True),
        sleep=fake.sleep,
        clock=fake.clock,
    )
    with pytest.raises(FetchError, match=r"https://example.org/list redirected to .*not followed"):
        client.get("https://example.org/list", source="s")
    assert asked == ["https://example.org/list"]  # never retried, never followed
    assert fake.sleeps == []


def test_redirects_within_http_are_followed_and_credentials_stay_with_their_host() -> None:
    seen: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((str(request.url), request.headers.get("authorization")))
        if request.url.path == "/old":
            return httpx.Response(301, headers={"Location": "/new"})
        if request.url.host == "example.org":
            return httpx.Response(302, headers={"Location": "https://mirror.example/list"})
        return httpx.Response(200, content=b"listing")

    client = Fetcher(httpx.Client(transport=httpx.MockTransport(handler), follow_redirects=True))
    response = client.get(
        "https://example.org/old", source="s", headers={"Authorization": "Bearer t"}
    )
    assert (response.url, response.payload) == ("https://mirror.example/list", b"listing")
    assert seen == [
        ("https://example.org/old", "Bearer t"),
        ("https://example.org/new", "Bearer t"),
        ("https://mirror.example/list", None),
    ]


@pytest.mark.parametrize("location", ["javascript:alert(1)", "data:,x", "file:///etc/passwd"])
def test_a_real_server_redirecting_off_http_is_asked_once(location: str) -> None:
    with page_server() as server:
        url = server.route("/list", Reply(status=302, headers={"Location": location}))
        client = Fetcher(httpx.Client(follow_redirects=True), sleep=FakeTime().sleep)
        with pytest.raises(FetchError, match=f"{url} redirected to"):
            client.get(url, source="s")
        assert len(server.requests_for("/list")) == 1


def test_the_run_client_reads_the_ca_bundle_only_for_its_first_https_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A bundle that does not exist: reading it would fail, so each step shows whether it was read.
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent/digest-test-bundle.pem")
    with page_server() as server, open_client(5.0) as client:
        url = server.route("/feed.atom", Reply(b"<feed/>"))
        answer = client.get(url)  # plain HTTP: no TLS, so no bundle
        assert answer.status_code == 200
        assert server.requests[0].headers["User-Agent"] == USER_AGENT
        with pytest.raises(FileNotFoundError):
            client.get("https://127.0.0.1:9/")  # TLS is set up now, with the operator's bundle
