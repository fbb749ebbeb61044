"""Behind a reverse proxy every per-address limit uses the real client's address
(TRUSTED_PROXY_HOPS, Werkzeug's ProxyFix), and a client cannot choose its address by
sending X-Forwarded-For itself.

The API runs under gunicorn on the test database; the reverse proxy is a real one, a
threaded HTTP forwarder that appends the peer's address to X-Forwarded-For as nginx's
``$proxy_add_x_forwarded_for`` does; each person is a real client bound to an address
of their own on the loopback network (127.0.0.0/8)."""

import http.client
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import TEST_DATABASE_URL
from tests.live import HOST, process_env, running_api

pytestmark = pytest.mark.gunicorn

JWT_SECRET = "test-secret-" + "x" * 40
PASSWORD = "correct horse battery"
LOGINS_PER_ADDRESS = 3
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}


class ReverseProxy:
    """Forwards every request to ``upstream``, appending the client's address to
    X-Forwarded-For and setting X-Forwarded-Proto, like a reverse proxy in front of the
    API (nginx: ``proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for``)."""

    def __init__(self, upstream: str):
        target = urlsplit(upstream)

        class Handler(BaseHTTPRequestHandler):
            def _forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {
                    name: value
                    for name, value in self.headers.items()
                    if name.lower() not in HOP_BY_HOP
                    and name.lower() not in ("x-forwarded-for", "x-forwarded-proto")
                }
                sent = self.headers.get("X-Forwarded-For")
                peer = self.client_address[0]
                headers["X-Forwarded-For"] = f"{sent}, {peer}" if sent else peer
                headers["X-Forwarded-Proto"] = "http"
                upstream_conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                try:
                    upstream_conn.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream_conn.getresponse()
                    payload = answer.read()
                    self.send_response(answer.status)
                    for name, value in answer.getheaders():
                        if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                finally:
                    upstream_conn.close()

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _forward

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{HOST}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


def _api(tmp_path_factory, hops: int):
    env = process_env(
        TEST_DATABASE_URL,
        JWT_SECRET,
        TRUSTED_PROXY_HOPS=str(hops),
        RATE_LIMIT_LOGIN_PER_ADDRESS=f"{LOGINS_PER_ADDRESS} per minute",
        RATE_LIMIT_AUTH="1000 per minute",
        REDIS_URL="",
        RATELIMIT_STORAGE_URI="memory://",  # one worker: its counters are the truth
    )
    env.pop("DATABASE_REPLICA_URLS", None)
    log = tmp_path_factory.mktemp(f"proxy-hops-{hops}") / "gunicorn.log"
    return running_api(env, log)


@pytest.fixture(scope="module")
def api_behind_proxy(tmp_path_factory, engine):
    """The API trusting one proxy hop, reached through the reverse proxy: its URL."""
    with _api(tmp_path_factory, hops=1) as base:
        proxy = ReverseProxy(base)
        try:
            yield proxy.url
        finally:
            proxy.close()


@pytest.fixture(scope="module")
def api_direct(tmp_path_factory, engine):
    """The API trusting no proxy (the default): its own URL, and one proxy in front."""
    with _api(tmp_path_factory, hops=0) as base:
        proxy = ReverseProxy(base)
        try:
            yield {"direct": base, "proxied": proxy.url}
        finally:
            proxy.close()


@pytest.fixture
def people(live_app):
    """Committed accounts (the servers read the database), emptied after the test."""

    def person(base: str) -> str:
        handle = f"p{uuid.uuid4().hex[:12]}"
        body = {"handle": handle, "email": f"{handle}@example.com", "password": PASSWORD}
        answer = httpx.post(f"{base}/api/v1/auth/register", json={**body, "display_name": "P"})
        assert answer.status_code == 201, answer.text
        return handle

    return person


class Client:
    """One person's phone: an HTTP client whose connections come from ``address``."""

    def __init__(self, base: str, address: str):
        transport = httpx.HTTPTransport(local_address=address)
        self.http = httpx.Client(base_url=base, transport=transport, timeout=30)

    def login(self, handle: str, forwarded_for: str | None = None) -> httpx.Response:
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        return self.http.post(
            "/api/v1/auth/login", json={"login": handle, "password": PASSWORD}, headers=headers
        )

    def close(self) -> None:
        self.http.close()


def logins(client: Client, handle: str, count: int, spoof=None) -> list[int]:
    return [
        client.login(handle, spoof(index) if spoof else None).status_code for index in range(count)
    ]


def test_two_people_behind_the_proxy_keep_their_own_sign_in_limits(api_behind_proxy, people):
    alice, bob = people(api_behind_proxy), people(api_behind_proxy)
    alices_phone = Client(api_behind_proxy, "127.0.0.2")
    bobs_phone = Client(api_behind_proxy, "127.0.0.3")
    try:
        assert logins(alices_phone, alice, LOGINS_PER_ADDRESS + 1) == [200] * 3 + [429]
        limited = alices_phone.login(alice)
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        # the proxy is everyone's peer, yet Bob's budget is his own
        assert logins(bobs_phone, bob, LOGINS_PER_ADDRESS) == [200] * 3
    finally:
        alices_phone.close()
        bobs_phone.close()


def test_without_trusted_hops_everyone_behind_the_proxy_shares_one_budget(api_direct, people):
    """Why the setting exists: with TRUSTED_PROXY_HOPS=0 behind a proxy, the proxy's
    address is every client's, so one person exhausts everybody's sign-in budget."""
    alice, bob = people(api_direct["direct"]), people(api_direct["direct"])
    alices_phone = Client(api_direct["proxied"], "127.0.0.12")
    bobs_phone = Client(api_direct["proxied"], "127.0.0.13")
    try:
        assert logins(alices_phone, alice, LOGINS_PER_ADDRESS) == [200] * 3
        assert bobs_phone.login(bob).status_code == 429
    finally:
        alices_phone.close()
        bobs_phone.close()


def test_a_spoofed_forwarded_for_buys_no_fresh_budget_on_a_direct_connection(api_direct, people):
    """TRUSTED_PROXY_HOPS=0 (the default): X-Forwarded-For is the client's own text and
    is ignored; a new value on every request changes nothing."""
    mallory = people(api_direct["direct"])
    phone = Client(api_direct["direct"], "127.0.0.22")
    try:
        statuses = logins(phone, mallory, 6, spoof=lambda i: f"203.0.113.{i + 1}")
        assert statuses == [200] * 3 + [429] * 3
    finally:
        phone.close()


def test_behind_the_proxy_the_address_the_proxy_appended_is_the_one_used(api_behind_proxy, people):
    """TRUSTED_PROXY_HOPS=1: only the last X-Forwarded-For entry, the one the proxy
    appended, is trusted. Mallory's own entries neither give her a fresh budget nor spend
    the budget of the address she names."""
    mallory, bob = people(api_behind_proxy), people(api_behind_proxy)
    mallorys_phone = Client(api_behind_proxy, "127.0.0.32")
    bobs_phone = Client(api_behind_proxy, "127.0.0.33")
    try:
        fresh_each_time = logins(
            mallorys_phone, mallory, 5, spoof=lambda i: f"198.51.100.{i + 1}, 10.0.0.{i + 1}"
        )
        assert fresh_each_time == [200] * 3 + [429] * 2
        # naming Bob's address spends Mallory's budget (already gone), not Bob's
        assert logins(mallorys_phone, mallory, 3, spoof=lambda i: "127.0.0.33") == [429] * 3
        assert logins(bobs_phone, bob, 3) == [200] * 3
    finally:
        mallorys_phone.close()
        bobs_phone.close()
