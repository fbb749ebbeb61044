"""Calendars: an event as iCalendar and the secret feed of the events I am going to.

Every document is read back with two independent parsers, ``icalendar`` (which wrote it)
and ``vobject``; the attacks go over HTTP: other people's, guessed, revoked and
rotated-away tokens, strangers, and RSVPs that are not "going"."""

import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import icalendar
import pytest
import vobject

NEW_YORK = (40.7484, -73.9857)
TOKYO = (35.6812, 139.7671)
T0 = datetime(2026, 12, 20, 23, 0, tzinfo=UTC)  # 18:00 in New York, 08:00 next day in Tokyo


@pytest.fixture
def organiser(actions):
    return actions.register()


@pytest.fixture
def hall(actions, organiser):
    return actions.venue(organiser, *NEW_YORK, name="Conference Hall", address="20 W 34th St")


def _event(client, user, venue, start=T0, hours=3, **extra):
    body = {
        "title": extra.pop("title", "Tweetup"),
        "venue_id": venue["id"],
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=hours)).isoformat(),
        **extra,
    }
    response = client.post("/api/v1/events", headers=user["headers"], json=body)
    assert response.status_code == 201, response.json
    return response.json


def _rsvp(client, user, event, status="going"):
    response = client.post(
        f"/api/v1/events/{event['id']}/rsvp", headers=user["headers"], json={"status": status}
    )
    assert response.status_code == 200, response.json


def _parse(response):
    """The document read by both parsers: (icalendar's VEVENTs by UID, vobject's)."""
    assert response.status_code == 200, response.data
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    text = response.get_data(as_text=True)
    ours = icalendar.Calendar.from_ical(text)
    theirs = vobject.readOne(text)
    events = {str(e["UID"]): e for e in ours.walk("VEVENT")}
    others = {e.uid.value: e for e in getattr(theirs, "vevent_list", [])}
    assert set(events) == set(others)
    return ours, events, others


def _feed_url(client, user) -> str:
    response = client.post("/api/v1/me/calendar-token", headers=user["headers"])
    assert response.status_code == 201, response.json
    assert response.headers["Cache-Control"] == "no-store"
    url = response.json["feed_url"]
    assert response.json["webcal_url"] == "webcal://" + url.split("://", 1)[1]
    return url


def _feed(client, url):
    parts = urlsplit(url)
    return client.get(f"{parts.path}?{parts.query}")


def _token(url) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def test_one_event_as_icalendar_read_by_two_parsers(client, organiser, hall, actions):
    event = _event(client, organiser, hall, description="Bring stickers; and, a badge")
    stranger = actions.register()
    response = client.get(f"/api/v1/events/{event['id']}.ics", headers=stranger["headers"])
    calendar, events, others = _parse(response)
    uid = f"event-{event['id']}@irl.invalid"
    ours, theirs = events[uid], others[uid]
    assert str(ours["SUMMARY"]) == theirs.summary.value == "Tweetup"
    assert theirs.description.value == "Bring stickers; and, a badge"
    assert theirs.location.value == "Conference Hall, 20 W 34th St"
    assert theirs.url.value == f"http://localhost/api/v1/events/{event['id']}"
    assert str(ours["STATUS"]) == "CONFIRMED" and int(ours["SEQUENCE"]) == 0
    assert ours["DTSTAMP"].dt.tzinfo is not None
    lat, lon = (float(x) for x in theirs.geo.value.split(";"))
    assert (ours["GEO"].latitude, ours["GEO"].longitude) == (lat, lon)
    assert (round(lat, 4), round(lon, 4)) == NEW_YORK
    assert theirs.dtstart.value == T0 and theirs.dtend.value == T0 + timedelta(hours=3)
    assert str(calendar["VERSION"]) == "2.0" and calendar["PRODID"]


@pytest.mark.parametrize(
    ("place", "zone", "local_start", "offset_hours"),
    [
        (NEW_YORK, "America/New_York", datetime(2026, 12, 20, 18, 0), -5),
        (TOKYO, "Asia/Tokyo", datetime(2026, 12, 21, 8, 0), 9),
    ],
)
def test_times_are_in_the_venues_zone_with_its_vtimezone(
    client, organiser, actions, place, zone, local_start, offset_hours
):
    venue = actions.venue(organiser, *place, name="Hall")
    event = _event(client, organiser, venue)
    response = client.get(f"/api/v1/events/{event['id']}.ics", headers=organiser["headers"])
    calendar, events, others = _parse(response)
    ours = next(iter(events.values()))
    assert ours["DTSTART"].params["TZID"] == zone and ours["DTEND"].params["TZID"] == zone
    assert ours["DTSTART"].dt.replace(tzinfo=None) == local_start
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == [zone]
    offsets = {
        part["TZOFFSETTO"].td
        for tz in calendar.walk("VTIMEZONE")
        for part in tz.walk()
        if "TZOFFSETTO" in part
    }
    assert timedelta(hours=offset_hours) in offsets
    theirs = next(iter(others.values()))
    assert theirs.dtstart.params["X-VOBJ-ORIGINAL-TZID"] == [zone]
    assert "tzicalvtz" in repr(theirs.dtstart.value.tzinfo)  # from our VTIMEZONE
    assert theirs.dtstart.value.utcoffset() == timedelta(hours=offset_hours)  # vobject's VTIMEZONE
    assert theirs.dtstart.value == T0


def test_uid_is_stable_and_sequence_bumps_only_when_what_calendars_show_changes(
    client, organiser, hall
):
    event = _event(client, organiser, hall, tags=["python"])
    path = f"/api/v1/events/{event['id']}.ics"

    def seen():
        _, events, others = _parse(client.get(path, headers=organiser["headers"]))
        ((uid, ours),), (theirs,) = events.items(), others.values()
        assert int(theirs.sequence.value) == int(ours["SEQUENCE"])
        return uid, int(ours["SEQUENCE"]), str(ours["SUMMARY"]), ours["DTSTAMP"].dt

    uid, first, _, stamp = seen()
    assert seen()[:2] == (uid, first)
    patch = lambda body: client.patch(  # noqa: E731
        f"/api/v1/events/{event['id']}", headers=organiser["headers"], json=body
    )
    assert patch({"tags": ["nyc"]}).status_code == 200  # not shown in calendars
    assert patch({"title": "Tweetup"}).status_code == 200  # unchanged
    assert seen()[:2] == (uid, first)
    assert patch({"title": "Tweetup, moved"}).status_code == 200
    later = (T0 + timedelta(hours=1)).isoformat()
    assert patch({"starts_at": later}).status_code == 200
    uid_after, sequence, summary, stamp_after = seen()
    assert (uid_after, sequence, summary) == (uid, first + 2, "Tweetup, moved")
    assert stamp_after >= stamp


def test_strangers_and_the_unauthenticated_read_no_hidden_event(client, organiser, hall, actions):
    event = _event(client, organiser, hall)
    stranger = actions.register()
    assert client.get(f"/api/v1/events/{event['id']}.ics").status_code == 401
    bad = {"Authorization": "Bearer not.a.token"}
    assert client.get(f"/api/v1/events/{event['id']}.ics", headers=bad).status_code == 401
    unknown = client.get("/api/v1/events/99999999.ics", headers=stranger["headers"])
    assert unknown.status_code == 404 and b"BEGIN:VCALENDAR" not in unknown.data
    deleted = client.delete(f"/api/v1/events/{event['id']}", headers=organiser["headers"])
    assert deleted.status_code == 204
    for who in (stranger, organiser):
        gone = client.get(f"/api/v1/events/{event['id']}.ics", headers=who["headers"])
        assert gone.status_code == 404 and b"Tweetup" not in gone.data


def test_the_feed_lists_only_the_events_i_am_going_to(client, organiser, hall, actions):
    me, other = actions.register(), actions.register()
    going, maybe, not_going, theirs, _unanswered = (
        _event(client, organiser, hall, title=title)
        for title in ("Going", "Maybe", "Not going", "Theirs", "Unanswered")
    )
    _rsvp(client, me, going)
    _rsvp(client, me, maybe, "maybe")
    _rsvp(client, me, not_going, "not_going")
    _rsvp(client, other, theirs)
    _rsvp(client, other, going)
    _, events, others = _parse(_feed(client, _feed_url(client, me)))
    assert set(events) == {f"event-{going['id']}@irl.invalid"}
    assert [e.summary.value for e in others.values()] == ["Going"]
    _rsvp(client, me, going, "maybe")  # changed my mind: gone from the feed
    _, events, _ = _parse(_feed(client, _feed_url(client, me)))
    assert events == {}


def test_the_feed_window_starts_30_days_back(client, organiser, hall, actions, frozen_clock):
    me = actions.register()
    now = frozen_clock.current
    old = _event(client, organiser, hall, start=now - timedelta(days=40), title="Old")
    recent = _event(client, organiser, hall, start=now - timedelta(days=10), title="Recent")
    for event in (old, recent):
        _rsvp(client, me, event)
    _, _, others = _parse(_feed(client, _feed_url(client, me)))
    assert [e.summary.value for e in others.values()] == ["Recent"]


def test_a_deleted_event_shows_cancelled_with_a_higher_sequence(client, organiser, hall, actions):
    me, maybe = actions.register(), actions.register()
    event = _event(client, organiser, hall, title="Meetup")
    _rsvp(client, me, event)
    _rsvp(client, maybe, event, "maybe")
    url, maybe_url = _feed_url(client, me), _feed_url(client, maybe)
    _, before, _ = _parse(_feed(client, url))
    uid = f"event-{event['id']}@irl.invalid"
    sequence = int(before[uid]["SEQUENCE"])
    assert (
        client.delete(f"/api/v1/events/{event['id']}", headers=organiser["headers"]).status_code
        == 204
    )
    _, after, others = _parse(_feed(client, url))
    assert str(after[uid]["STATUS"]) == others[uid].status.value == "CANCELLED"
    assert int(after[uid]["SEQUENCE"]) == int(others[uid].sequence.value) == sequence + 1
    assert others[uid].dtstart.value == T0 and others[uid].summary.value == "Meetup"
    assert _parse(_feed(client, maybe_url))[1] == {}  # only those who were going


def test_another_users_guessed_revoked_and_rotated_tokens_get_404_and_nothing(
    client, organiser, hall, actions
):
    me, other = actions.register(), actions.register()
    event = _event(client, organiser, hall, title="Secret plans")
    _rsvp(client, me, event)
    _rsvp(client, other, event, "maybe")
    mine = _feed_url(client, me)
    theirs = _feed_url(client, other)
    _, seen, _ = _parse(_feed(client, theirs))
    assert seen == {}  # another user's token shows their feed, never mine
    rotated = _feed_url(client, me)
    assert _token(rotated) != _token(mine)
    guessed = mine.replace(_token(mine), _token(mine)[:-1] + ("A" if mine[-1] != "A" else "B"))
    refused = [
        _feed(client, mine),  # rotated away
        _feed(client, guessed),
        client.get("/api/v1/me/events.ics"),
        client.get("/api/v1/me/events.ics?token="),
        client.get("/api/v1/me/events.ics?token=" + "x" * 5000),
        client.get("/api/v1/me/events.ics", headers=me["headers"]),  # a bearer is no key
    ]
    assert client.delete("/api/v1/me/calendar-token", headers=me["headers"]).status_code == 204
    refused.append(_feed(client, rotated))  # revoked
    for response in refused:
        assert response.status_code == 404, response.data
        assert b"Secret plans" not in response.data and b"VCALENDAR" not in response.data
    assert refused[0].json == refused[1].json == refused[-1].json  # nothing tells them apart
    assert client.delete("/api/v1/me/calendar-token", headers=me["headers"]).status_code == 204
    assert client.post("/api/v1/me/calendar-token").status_code == 401


def test_only_a_hash_of_the_token_is_stored(client, app, actions):
    from sqlalchemy import select

    from service.database import db
    from service.models import CalendarToken

    me = actions.register()
    token = _token(_feed_url(client, me))
    with app.app_context():
        stored = db.session.scalars(select(CalendarToken.token_hash)).all()
    assert stored and all(token.encode() not in bytes(h) and len(h) == 32 for h in stored)


def test_the_feed_is_rate_limited_like_other_reads(client, app, actions):
    me = actions.register()
    url = _feed_url(client, me)
    app.config["RATE_LIMIT_READS"] = "3 per minute"
    answers = [_feed(client, url).status_code for _ in range(4)]
    assert answers[:3] == [200, 200, 200] and answers[3] == 429
    assert "Retry-After" in _feed(client, url).headers


def test_the_token_is_never_logged(client, actions, caplog):
    me = actions.register()
    url = _feed_url(client, me)
    with caplog.at_level(logging.DEBUG):
        _feed(client, url)
        _feed(client, url + "x")
        client.get("/api/v1/me/events.ics?token=" + _token(url) + "&token=%00")
    assert _token(url) not in caplog.text


def test_openapi_documents_both_calendar_answers(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    event = paths["/api/v1/events/{event_id}.ics"]["get"]
    feed = paths["/api/v1/me/events.ics"]["get"]
    for operation in (event, feed):
        assert "text/calendar" in operation["responses"]["200"]["content"]
        assert "404" in operation["responses"]
    assert "security" in event and "security" not in feed
    assert {"post", "delete"} <= set(paths["/api/v1/me/calendar-token"])
