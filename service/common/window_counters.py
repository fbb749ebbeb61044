"""Fixed-window counters: every budget a request draws on, counted in one round trip.

The counters are ``limits``' fixed windows (same keys, same storage), so counts survive an
upgrade and ``limits``' storages keep working. On Redis (or Sentinel) one Lua script
counts them all; on any other storage (memcached, Redis Cluster, whose keys may live on
different nodes, or process memory: ``InProcessStorage``) each is counted in turn. Either
way, counting stops at the first budget over its amount, so a refused request does not
use up the budgets after it.
"""

import math
import threading
import time
from dataclasses import dataclass

from limits import RateLimitItem
from limits.storage import MemoryStorage, RedisClusterStorage, RedisStorage, Storage

# KEYS: the counters; ARGV: per counter its window (s) and amount. Returns per counter
# counted: its count (this hit included) and the seconds left in its window.
HIT_ALL = """
local counts = {}
for i, key in ipairs(KEYS) do
  local count = redis.call("incrby", key, 1)
  local ttl = redis.call("ttl", key)
  if ttl < 0 then
    ttl = tonumber(ARGV[2 * i - 1])
    redis.call("expire", key, ttl)
  end
  counts[#counts + 1] = count
  counts[#counts + 1] = ttl
  if count > tonumber(ARGV[2 * i]) then
    break
  end
end
return counts
"""


@dataclass(frozen=True, slots=True)
class Count:
    """One budget after this request's hit."""

    amount: int
    used: int
    reset_s: int  # seconds until its window ends

    @property
    def remaining(self) -> int:
        """Hits left in the window."""
        return max(0, self.amount - self.used)

    @property
    def exceeded(self) -> bool:
        """Did this hit go over the budget?"""
        return self.used > self.amount


class InProcessStorage(MemoryStorage):
    """``limits``' memory storage for fixed windows, without its expiry thread.

    ``MemoryStorage`` starts a thread 10 ms after a hit that walks every key to drop the
    expired ones: under steady requests, a new thread and a walk over every requester's
    counters every few requests. Here a counter past its window starts afresh when hit
    (as in ``MemoryStorage``), and expired ones are dropped every ``SWEEP_EVERY`` hits."""

    SWEEP_EVERY = 10_000

    def __init__(self, uri: str | None = None, **options):
        super().__init__(uri, **options)
        self._lock = threading.Lock()
        self._hits = 0

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add ``amount`` to the counter of ``key`` (a new window of ``expiry`` s when
        the last one is over)."""
        now = time.time()
        with self._lock:
            if self.expirations.get(key, 0) <= now:
                self.storage[key] = 0
                self.expirations[key] = now + expiry
            self.storage[key] += amount
            self._hits += 1
            if self._hits % self.SWEEP_EVERY == 0:
                self._sweep(now)
            return self.storage[key]

    def _sweep(self, now: float) -> None:
        for key in [key for key, until in self.expirations.items() if until <= now]:
            self.storage.pop(key, None)
            self.expirations.pop(key, None)


def batches(storage: Storage) -> bool:
    """Can this storage count several keys in one script (one Redis, not a cluster)?"""
    return isinstance(storage, RedisStorage) and not isinstance(storage, RedisClusterStorage)


class WindowCounters:
    """The fixed-window counters of one storage."""

    def __init__(self, storage: Storage):
        self.storage = storage
        self._script = (
            storage.get_connection().register_script(HIT_ALL) if batches(storage) else None
        )

    def hit_all(self, counters: list[tuple[str, RateLimitItem]]) -> list[Count]:
        """Hit each ``(key, item)`` in order, up to and including the first one over its
        amount; the counts of those hit. ``key`` is ``item.key_for(...)``'s."""
        if not counters:
            return []
        if self._script is not None:
            return self._hit_all_in_one_script(counters)
        counts = []
        for key, item in counters:
            used = self.storage.incr(key, item.get_expiry())
            reset_s = math.ceil(self.storage.get_expiry(key) - time.time())
            counts.append(Count(item.amount, used, max(0, reset_s)))
            if used > item.amount:
                break
        return counts

    def _hit_all_in_one_script(self, counters: list[tuple[str, RateLimitItem]]) -> list[Count]:
        keys = [self.storage.prefixed_key(key) for key, _item in counters]
        args = [value for _key, item in counters for value in (item.get_expiry(), item.amount)]
        flat = self._script(keys=keys, args=args)
        return [
            Count(item.amount, int(flat[2 * i]), int(flat[2 * i + 1]))
            for i, (_key, item) in enumerate(counters[: len(flat) // 2])
        ]
