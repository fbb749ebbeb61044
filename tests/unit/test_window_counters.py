"""Fixed-window counters: every budget of a request counted at once, stopping at the
first one used up; on Redis in one script (one round trip)."""

import uuid

import limits.storage.memory
import pytest
import redis
from limits import parse
from limits.storage import MemoryStorage, storage_from_string

from service.common.window_counters import InProcessStorage, WindowCounters

REDIS_URL = "redis://127.0.0.1:6379/15"


def _on_redis():
    prefix = f"LIMITS:irl-window-test-{uuid.uuid4().hex[:8]}"
    storage = storage_from_string(REDIS_URL, key_prefix=prefix, socket_connect_timeout=1)
    if not storage.check():
        pytest.skip("no Redis on 127.0.0.1:6379")
    return storage


@pytest.fixture(params=["in-process", "limits-memory", "redis"])
def counters(request):
    """Counters in process, on ``limits``' own memory storage (any storage works, one
    hit at a time), then on Redis (skipped when none answers)."""
    if request.param == "in-process":
        yield WindowCounters(InProcessStorage())
        return
    if request.param == "limits-memory":
        yield WindowCounters(MemoryStorage())
        return
    storage = _on_redis()
    yield WindowCounters(storage)
    storage.reset()
    storage.get_connection().close()


@pytest.fixture
def redis_counters():
    """Counters on Redis only (skipped when none answers)."""
    storage = _on_redis()
    yield WindowCounters(storage)
    storage.reset()
    storage.get_connection().close()


def _counters(*limits: str) -> list:
    return [(item.key_for("ns", "user:1", f"scope{i}"), item) for i, item in enumerate(limits)]


def test_each_budget_counts_once_per_hit_with_its_window(counters):
    budgets = _counters(parse("3 per minute"), parse("10 per hour"))
    first = counters.hit_all(budgets)
    second = counters.hit_all(budgets)
    assert [(c.amount, c.used, c.remaining) for c in first] == [(3, 1, 2), (10, 1, 9)]
    assert [(c.used, c.remaining, c.exceeded) for c in second] == [(2, 1, False), (2, 8, False)]
    assert 58 <= second[0].reset_s <= 60 and 3590 <= second[1].reset_s <= 3600


def test_counting_stops_at_the_first_budget_used_up(counters):
    """A refused burst does not use up the budgets after it (the longer windows)."""
    budgets = _counters(parse("2 per minute"), parse("5 per hour"))
    for _ in range(4):
        counts = counters.hit_all(budgets)
    assert len(counts) == 1 and counts[0].exceeded and counts[0].remaining == 0
    hourly = counters.hit_all(budgets[1:])[0]
    assert hourly.used == 3  # two allowed hits and this one, not the refused ones


def test_nothing_to_count_costs_nothing(counters):
    assert counters.hit_all([]) == []


def test_on_redis_every_budget_is_one_round_trip(redis_counters, monkeypatch):
    counters = redis_counters
    connection = counters.storage.get_connection()
    sent = []
    real = connection.execute_command
    monkeypatch.setattr(
        connection, "execute_command", lambda *a, **k: sent.append(a[0]) or real(*a, **k)
    )
    counts = counters.hit_all(_counters(parse("5 per minute"), parse("9 per minute")))
    assert [c.used for c in counts] == [1, 1]
    assert len(sent) == 1


def test_a_counter_left_without_expiry_gets_one(redis_counters):
    """A key without a TTL (written by hand, or an interrupted older client) would never
    reset; the script gives it the window again."""
    counters = redis_counters
    ((key, item),) = _counters(parse("5 per minute"))
    counters.storage.get_connection().set(counters.storage.prefixed_key(key), 3)
    (count,) = counters.hit_all([(key, item)])
    assert count.used == 4 and 0 < count.reset_s <= 60


def test_redis_errors_reach_the_caller():
    """The caller decides what a store that is down means (the API counts in process)."""
    storage = storage_from_string("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    with pytest.raises(redis.RedisError):
        WindowCounters(storage).hit_all(_counters(parse("1 per minute")))


def test_counting_in_process_starts_no_thread(monkeypatch):
    """``limits``' memory storage starts an expiry thread every few hits."""
    counters = WindowCounters(InProcessStorage())
    started = []
    monkeypatch.setattr(limits.storage.memory.threading, "Timer", lambda *a: started.append(a))
    for user in range(200):
        counters.hit_all([(f"user:{user}", parse("5 per minute"))])
    assert started == []


def test_counters_in_process_start_afresh_and_are_swept(monkeypatch):
    storage = InProcessStorage()
    monkeypatch.setattr(storage, "SWEEP_EVERY", 3)
    clock = [1000.0]
    monkeypatch.setattr("service.common.window_counters.time.time", lambda: clock[0])
    counters = WindowCounters(storage)
    item = parse("5 per minute")
    assert [counters.hit_all([("a", item)])[0].used for _ in range(2)] == [1, 2]
    clock[0] += 61  # the window is over: the next hit starts a new one
    assert counters.hit_all([("b", item)])[0].used == 1  # third hit: sweeps "a"
    assert "a" not in storage.storage and "a" not in storage.expirations
    (fresh,) = counters.hit_all([("a", item)])
    assert fresh.used == 1 and fresh.reset_s == 60
