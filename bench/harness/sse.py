"""The one Python load driver: a process holding notification streams open (SSE).

``stream_client`` (a spawned process) opens one stream per ``(user_id, token)``, at most
``CONNECT_AT_ONCE`` in their handshake at a time, sends the parent the users whose
stream is ready (its ``retry:`` came), waits for the number of notifications to expect,
then sends back every one read: ``(user_id, notification id, time read)``.
"""

import asyncio
import json
import resource
import time
from dataclasses import dataclass, field

import httpx

PATH = "/api/v1/me/notifications/stream"
CONNECT_AT_ONCE = 100


@dataclass
class Streams:
    """What the open streams received."""

    bench: str  # the marker in the benchmark's notifications' data
    ready: list[int] = field(default_factory=list)
    events: list[tuple[int, int, float]] = field(default_factory=list)
    bench_events: int = 0
    errors: list[str] = field(default_factory=list)

    def on_event(self, fields: dict[str, str], received: float, user_id: int) -> None:
        """Take one SSE event: ``retry:`` marks the stream ready, a notification is kept."""
        if "retry" in fields:
            self.ready.append(user_id)
        elif fields.get("event") == "notification":
            note = json.loads(fields["data"])
            self.events.append((user_id, note["id"], received))
            self.bench_events += (note.get("data") or {}).get("bench") == self.bench


async def _stream(client: httpx.AsyncClient, user_id: int, token: str, gate, streams: Streams):
    """Hold one notification stream open, recording what arrives, until cancelled."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    response = None
    try:
        async with gate:
            request = client.build_request("GET", PATH, headers=headers)
            response = await client.send(request, stream=True)
        if response.status_code != 200:
            raise RuntimeError(f"stream answered {response.status_code}")
        fields: dict[str, str] = {}
        async for line in response.aiter_lines():
            if not line:
                streams.on_event(fields, time.time(), user_id)
                fields = {}
            elif not line.startswith(":"):
                key, _, value = line.partition(":")
                fields[key] = value.removeprefix(" ")
    except (httpx.HTTPError, RuntimeError, ValueError) as exc:
        streams.errors.append(f"user {user_id}: {exc!r}")
    finally:
        if response is not None:
            await response.aclose()


async def _until(condition, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


async def _main(address: str, users: list, pipe, open_s: float, drain_s: float, bench: str):
    streams, gate = Streams(bench), asyncio.Semaphore(CONNECT_AT_ONCE)
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    options = {"limits": limits, "timeout": httpx.Timeout(30, read=None)}
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=f"http://{address}", **options) as client:
        tasks = [asyncio.create_task(_stream(client, u, t, gate, streams)) for u, t in users]
        await _until(lambda: len(streams.ready) + len(streams.errors) >= len(users), open_s)
        opened = {"ready_users": streams.ready, "open_s": round(time.perf_counter() - started, 2)}
        pipe.send({**opened, "errors": streams.errors[:20]})
        expected = await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
        await _until(lambda: streams.bench_events >= expected, drain_s)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    pipe.send({"events": streams.events, "errors": streams.errors[:20]})


def raise_fd_limit(needed: int) -> None:
    """Raise the open-file soft limit to ``needed`` (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        soft = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def stream_client(address: str, users: list, pipe, open_s: float, drain_s: float, bench: str):
    """(Client process.) Open one stream per ``(user_id, token)``; report as above."""
    raise_fd_limit(len(users) + 256)
    asyncio.run(_main(address, users, pipe, open_s, drain_s, bench))
