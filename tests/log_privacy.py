"""The privacy suite's log check: no position or token the tests handled reaches a log.

While a test runs, Flask's ``request_started`` / ``request_finished`` signals collect what
each request sent (query and body coordinates, its bearer token, passwords) and what each
answer issued (access/refresh tokens, feed URLs, proof codes, positions), and a handler on
the root logger keeps every record (DEBUG and up) as the app's JSON formatter writes it.
At the end no kept line may contain any of them, nor the word ``Bearer``.
"""

import contextlib
import logging
import re

from flask import request, request_finished, request_started

from service.logs import formatter

DECIMALS_4 = re.compile(r"(\d+\.\d{4})\d*")
POSITION_KEYS = frozenset({"lat", "lon", "latitude", "longitude"})
SECRET_KEYS = ("token", "password", "proof_code", "completion", "feed_url", "webcal_url")


def positions_and_secrets(value, key: str = "", *, every_float: bool) -> set[str]:
    """Each coordinate in ``value`` (4+ decimals, cut to 4, without its sign: found in any
    longer or signed spelling) and each secret (8+ characters under a token, password or
    code key); ``every_float``: every float is a coordinate, not only those under lat/lon."""
    found: set[str] = set()
    if isinstance(value, dict):
        for name, item in value.items():
            found |= positions_and_secrets(item, str(name), every_float=every_float)
    elif isinstance(value, list | tuple):
        for item in value:
            found |= positions_and_secrets(item, key, every_float=every_float)
    elif isinstance(value, float) and (every_float or key in POSITION_KEYS):
        match = DECIMALS_4.fullmatch(repr(abs(value)))
        found |= {match.group(1)} if match else set()
    elif isinstance(value, str) and len(value) >= 8 and key.endswith(SECRET_KEYS):
        found.add(value)
    return found


def sent_by(incoming) -> set[str]:
    """What a request carries: the positions in its query and JSON body, its secrets."""
    found = {
        match.group(1)
        for value in incoming.args.values()
        if (match := DECIMALS_4.fullmatch(value.lstrip("-")))
    }
    with contextlib.suppress(Exception):  # a body the app refuses (too large, not JSON)
        found |= positions_and_secrets(incoming.get_json(silent=True), every_float=True)
    scheme, _, token = incoming.headers.get("Authorization", "").partition(" ")
    return found | ({token} if scheme == "Bearer" and token else set())


def issued_by(response) -> set[str]:
    """What an answer hands out: tokens, feed URLs, proof codes, positions."""
    if response.is_streamed or not response.is_json:
        return set()
    return positions_and_secrets(response.get_json(silent=True), every_float=False)


class Formatted(logging.Handler):
    """Keeps every record as the app's JSON formatter writes it."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(formatter("json"))
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


def captured_logs_checked():
    """Generator fixture body: capture while the test runs (yields the needles), then
    assert that no captured line holds one."""
    needles: set[str] = set()
    captured = Formatted()
    root = logging.getLogger()
    level = root.level

    def on_request(_app, **_extra):
        needles.update(sent_by(request))

    def on_response(_app, response, **_extra):
        needles.update(issued_by(response))

    request_started.connect(on_request)
    request_finished.connect(on_response)
    root.addHandler(captured)
    root.setLevel(logging.DEBUG)
    try:
        yield needles
    finally:
        root.setLevel(level)
        root.removeHandler(captured)
        request_started.disconnect(on_request)
        request_finished.disconnect(on_response)
    assert captured.lines, "nothing was logged: the request log is missing"
    leaks = [(n, line) for line in captured.lines for n in needles | {"Bearer"} if n in line]
    assert not leaks, f"{len(leaks)} leak(s) in the logs, e.g. {leaks[0][0]!r} in {leaks[0][1]}"
