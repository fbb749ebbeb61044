"""The iCalendar builder (pure): text survives both parsers, zones, empty feeds."""

from datetime import UTC, datetime, timedelta

import icalendar
import vobject

from service.calendars.ics import Entry, render

START = datetime(2026, 3, 7, 23, 0, tzinfo=UTC)  # the evening before New York's DST change


def _entry(**changes) -> Entry:
    fields = {
        "event_id": 7,
        "title": "Tweetup",
        "description": None,
        "starts_at": START,
        "ends_at": START + timedelta(hours=12),
        "timezone": "America/New_York",
        "venue_name": "Hall",
        "venue_address": None,
        "lat": 40.7484,
        "lon": -73.9857,
        "sequence": 3,
        "stamp": START - timedelta(days=1),
        "url": "https://irl.example/api/v1/events/7",
    }
    return Entry(**(fields | changes))


def test_awkward_text_round_trips_through_both_parsers():
    text = 'Line one; a, b\nline two \\ "quoted" — ünïcode 🎉'
    body = render(
        [_entry(title=text, description=text, venue_address="1 Main St; Floor 2, NY")],
        name="n",
        domain="irl.invalid",
    )
    ours = icalendar.Calendar.from_ical(body).walk("VEVENT")[0]
    theirs = vobject.readOne(body.decode()).vevent
    assert str(ours["SUMMARY"]) == theirs.summary.value == text
    assert theirs.description.value == text
    assert theirs.location.value == "Hall, 1 Main St; Floor 2, NY"
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))  # folded (octets)


def test_an_event_across_a_dst_change_keeps_both_offsets():
    body = render([_entry()], name="n", domain="irl.invalid")
    theirs = vobject.readOne(body.decode()).vevent
    assert theirs.dtstart.value.utcoffset() == timedelta(hours=-5)
    assert theirs.dtend.value.utcoffset() == timedelta(hours=-4)
    assert theirs.dtend.value == START + timedelta(hours=12)


def test_an_unknown_zone_falls_back_to_utc():
    body = render([_entry(timezone="Mars/Olympus_Mons")], name="n", domain="irl.invalid")
    event = icalendar.Calendar.from_ical(body).walk("VEVENT")[0]
    assert event["DTSTART"].dt == START


def test_an_empty_feed_is_still_a_calendar_both_parsers_read():
    body = render([], name="IRL", domain="irl.invalid")
    assert icalendar.Calendar.from_ical(body).walk("VEVENT") == []
    assert vobject.readOne(body.decode()).x_wr_calname.value == "IRL"


def test_events_at_the_ends_of_the_calendar_still_render():
    """Year 1 in New York is year 0 (unwritable), and a year's margin past 9999 does not
    exist: both once made GET /events/{id}.ics a 500 (found by Schemathesis)."""
    first = datetime(1, 1, 1, tzinfo=UTC)
    last = datetime(9999, 12, 31, 22, tzinfo=UTC)
    entries = [
        _entry(event_id=1, starts_at=first, ends_at=first + timedelta(hours=1)),
        _entry(
            event_id=2, starts_at=last, ends_at=last + timedelta(hours=1), timezone="Asia/Tokyo"
        ),
    ]
    for entry in entries:
        document = render([entry], name="IRL", domain="irl.test")
        (event,) = icalendar.Calendar.from_ical(document).walk("VEVENT")
        assert event.decoded("dtstart").astimezone(UTC) == entry.starts_at
    both = icalendar.Calendar.from_ical(render(entries, name="IRL", domain="irl.test"))
    assert len(both.walk("VEVENT")) == 2  # each kept in UTC: its zone cannot write it
