"""Schemathesis hooks for ``tests.fuzz`` (loaded through ``SCHEMATHESIS_HOOKS``).

Three things JSON Schema cannot say, told to the generator here:
- how to write each cursor format the document declares (``<kind>-cursor``), so positive
  data is a well-formed cursor and every well-formed one must be a page;
- that an ``Idempotency-Key`` names one request: a client never sends one key with two
  bodies (that is a 422 by contract, tested in test_idempotent_writes.py), so each
  positive call gets a fresh valid key;
- the rules between fields and against the clock (``ends_at`` after ``starts_at``,
  ``client_time`` within the last 24 hours, quiet hours that differ): positive cases get
  times that keep them, everything else stays as generated. The rules themselves are
  tested in test_events.py, test_checkin_rules.py and test_notification_settings.py.
"""

import uuid
from datetime import UTC, datetime, timedelta, timezone

import schemathesis
from hypothesis import strategies as st

from service.common import cursor

_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)
_ids = st.integers(1, cursor.MAX_ID)
_zones = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
)
_times = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=_zones
).map(datetime.isoformat)

CURSORS = {
    "offset": st.tuples(st.integers(0, cursor.MAX_OFFSET)),
    "id": st.tuples(_ids),
    "name": st.tuples(_text),
    "key": st.tuples(_text, _ids),
    "time": st.tuples(_times, _ids),
    "triple": st.tuples(_text, _text, _ids),
}
assert CURSORS.keys() == cursor.KINDS.keys(), "a cursor kind without a generator"
for _kind, _values in CURSORS.items():
    schemathesis.openapi.format(
        f"{_kind}-cursor",
        _values.map(lambda values: cursor.encode(*values)).filter(
            lambda text: len(text) <= cursor.MAX_LENGTH
        ),
    )


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _keep_time_rules(path: str, body: dict) -> None:
    """Make a positive body's times keep the rules between fields and against the clock."""
    now = datetime.now(UTC)
    if path.endswith("/checkins") and "client_time" in body:
        body["client_time"] = _stamp(now - timedelta(minutes=1))
    if "/events" in path and "starts_at" in body and "ends_at" in body:
        starts = datetime.fromisoformat(body["starts_at"])
        body["ends_at"] = _stamp(starts + timedelta(hours=2))
    quiet = body.get("quiet_hours")
    if isinstance(quiet, dict) and quiet.get("start") == quiet.get("end"):
        quiet["end"] = "07:00" if quiet.get("start") != "07:00" else "08:00"


def _keep_window(query: dict) -> None:
    """A positive ``from``/``to`` window: ``to`` a day after ``from``."""
    if "from" in query and "to" in query:
        starts = datetime.fromisoformat(query["from"])
        query["to"] = _stamp(starts + timedelta(days=1))


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    """A fresh key per call; realistic times in positive cases."""
    meta = case.meta
    # only positive cases: editing a negative one's headers would make Schemathesis
    # revalidate it (and send the Authorization header a missing-header case leaves out)
    if meta is None or not meta.generation.mode.is_positive:
        return
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    path = case.operation.path
    if isinstance(case.body, dict):
        _keep_time_rules(path, case.body)
    if isinstance(case.query, dict) and path.endswith("/events/nearby"):
        _keep_window(case.query)
