"""Phones checking in over and over while a test breaks or reshapes the cluster."""

import threading
import time
import uuid
from collections.abc import Callable

import httpx
from sqlalchemy import create_engine, text

# An answer that tells the phone to try again later; it must say when (Retry-After).
RETRY_LATER = (409, 503)
# A phone gives up on one check-in (and the test fails) after this long.
GIVE_UP_S = 60.0

# send(path, body, headers) -> (status, json body or None, headers)
Send = Callable[[str, dict, dict], tuple[int | str, dict | None, dict]]


class Phone:
    """One user checking in at one venue over and over, each check-in retried with its
    Idempotency-Key until it is answered 201, as the app does. Records every answer."""

    def __init__(self, send: Send, user: dict, venue: dict):
        self.send = send
        self.user = user
        self.venue = venue
        self.acknowledged: list[int] = []  # check-in ids answered 201
        self.answered_at: list[float] = []  # when each 201 came (monotonic)
        self.statuses: dict[int | str, int] = {}
        self.without_retry_after: list[int] = []  # 409/503 answers that did not say when
        self.unacknowledged_keys: list[str] = []  # given up on (the test ended or timed out)
        self.samples: dict[int | str, str] = {}  # the first body of each other status

    @property
    def user_id(self) -> int:
        return self.user["user"]["id"]

    def check_in(self) -> None:
        """One check-in, retried with the same key until it is answered 201."""
        key = str(uuid.uuid4())
        body = {"venue_id": self.venue["id"], "location": self.venue["location"]}
        headers = {**self.user["headers"], "Idempotency-Key": key}
        deadline = time.monotonic() + GIVE_UP_S
        while time.monotonic() < deadline:
            status, answer, answer_headers = self.send("/api/v1/checkins", body, headers)
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status == 201:
                self.acknowledged.append(answer["checkin"]["id"])
                self.answered_at.append(time.monotonic())
                return
            if status in RETRY_LATER and not answer_headers.get("Retry-After"):
                self.without_retry_after.append(status)
            self.samples.setdefault(status, str(answer)[:300])
            time.sleep(0.1)
        self.unacknowledged_keys.append(key)

    def run(self, stop: threading.Event) -> None:
        """Check in until ``stop`` is set (finishing the check-in under way)."""
        while not stop.is_set():
            self.check_in()

    def answered_since(self, moment: float) -> bool:
        return any(at > moment for at in self.answered_at)


class Load:
    """Phones checking in on threads of their own."""

    def __init__(self, phones: list[Phone]):
        self.phones = phones
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=p.run, args=(self.stop,)) for p in phones]

    def __enter__(self) -> "Load":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(GIVE_UP_S + 30)

    def acknowledged(self) -> int:
        return sum(len(p.acknowledged) for p in self.phones)

    def samples(self) -> dict:
        """A body of each status but 201, from any phone."""
        return {s: b for p in self.phones for s, b in p.samples.items()}

    def statuses(self) -> dict:
        total: dict = {}
        for phone in self.phones:
            for status, count in phone.statuses.items():
                total[status] = total.get(status, 0) + count
        return total


def http_send(base: str) -> Send:
    """``Send`` over HTTP to a server at ``base``: a connection per thread (per phone);
    ``send.close()`` closes them. A request that fails outright is its exception's name."""
    lock = threading.Lock()
    clients: dict[int, httpx.Client] = {}

    def send(path: str, body: dict, headers: dict):
        with lock:
            client = clients.setdefault(
                threading.get_ident(), httpx.Client(base_url=base, timeout=15)
            )
        try:
            response = client.post(path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            return type(exc).__name__, None, {}
        try:
            answer = response.json()
        except ValueError:
            answer = response.text[:300]
        return response.status_code, answer, response.headers

    send.close = lambda: [client.close() for client in clients.values()]
    return send


def app_send(app) -> Send:
    """``Send`` through ``app``'s test client (in this process, one client per call)."""

    def send(path: str, body: dict, headers: dict):
        response = app.test_client().post(path, json=body, headers=headers)
        return response.status_code, response.get_json(silent=True), response.headers

    return send


def register(send: Send, index: int) -> dict:
    """A new user (``headers`` carries the token)."""
    handle = f"phone{index}_{uuid.uuid4().hex[:6]}"
    status, body, _ = send(
        "/api/v1/auth/register",
        {
            "handle": handle,
            "email": f"{handle}@example.com",
            "password": "correct horse battery",
            "display_name": handle,
        },
        {},
    )
    assert status == 201, body
    body["headers"] = {"Authorization": f"Bearer {body['access_token']}"}
    return body


def users_on_each_worker(send: Send, url: str, count: int, first: int = 0) -> list[dict]:
    """New users, ``count`` of them on each worker (their ``users`` shard's node),
    registered until that holds (the hash decides where an id lands)."""
    engine = create_engine(url)
    placed: dict[int, list[dict]] = {}
    try:
        with engine.connect() as conn:
            workers = conn.scalars(text("SELECT node_port FROM citus_get_active_worker_nodes()"))
            placed = {port: [] for port in workers}
            for index in range(first, first + 8 * count * len(placed)):
                user = register(send, index)
                placed[worker_of(conn, "users", user["user"]["id"])].append(user)
                if all(len(users) >= count for users in placed.values()):
                    return [user for users in placed.values() for user in users[:count]]
    finally:
        engine.dispose()
    raise AssertionError(f"not {count} users on each worker: {placed}")


def venue_of(send: Send, user: dict, index: int) -> dict:
    """A venue of ``user``'s, apart from the others (its own city check-in done: the
    first check-in at a venue writes the reference table, which needs every node up)."""
    location = {"lat": 40.7, "lon": -74.0 + index / 100}
    status, venue, _ = send(
        "/api/v1/venues",
        {"name": f"V{index}", "category": "Cafe", "location": location},
        user["headers"],
    )
    assert status == 201, venue
    return venue


def worker_of(conn, table: str, key: int) -> int:
    """The port of the worker holding ``table``'s shard for distribution value ``key``."""
    return conn.execute(
        text(
            "SELECT nodeport FROM citus_shards"
            " WHERE shardid = get_shard_id_for_distribution_column(:table, :key)"
        ),
        {"table": table, "key": key},
    ).scalar_one()
