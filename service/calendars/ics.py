"""iCalendar (RFC 5545) documents of events, built with ``icalendar`` (pure: no Flask,
no database).

Each event is a VEVENT whose UID never changes (``event-<id>@<domain>``), whose SEQUENCE
counts the changes to what it shows, and whose DTSTART/DTEND are in the venue's IANA
time zone, described by a VTIMEZONE covering the events' dates.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event

PRODID = "-//IRL//IRL events//EN"
REFRESH = timedelta(hours=1)  # how often a subscribed calendar should fetch the feed again
ZONE_MARGIN = timedelta(days=366)  # each VTIMEZONE covers the events' dates ± a year
ZONE_YEARS = (date(1900, 1, 1), date(2200, 12, 31))  # ... within these (any date is valid)


@dataclass(frozen=True)
class Entry:
    """An event as a calendar shows it."""

    event_id: int
    title: str
    description: str | None
    starts_at: datetime
    ends_at: datetime
    timezone: str  # the venue's IANA name
    venue_name: str
    venue_address: str | None
    lat: float
    lon: float
    sequence: int
    stamp: datetime  # when it was last revised (DTSTAMP, LAST-MODIFIED)
    url: str
    cancelled: bool = False


def uid(event_id: int, domain: str) -> str:
    """The event's UID, the same in every document ever served."""
    return f"event-{event_id}@{domain}"


def _zone(name: str):
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _local(moment: datetime, zone) -> datetime:
    """``moment`` in the venue's zone; in UTC at the ends of the calendar (year 1 or 9999
    shifted past them cannot be written)."""
    try:
        return moment.astimezone(zone)
    except OverflowError:
        return moment


def _zone_span(entries: list[Entry]) -> tuple[date, date]:
    """The dates the VTIMEZONEs cover: the events' ± ZONE_MARGIN, within ZONE_YEARS."""
    low, high = ZONE_YEARS
    first = max(min(entry.starts_at for entry in entries).date(), low + ZONE_MARGIN) - ZONE_MARGIN
    last = min(max(entry.ends_at for entry in entries).date(), high - ZONE_MARGIN) + ZONE_MARGIN
    return min(first, last), last


def _vevent(entry: Entry, domain: str) -> Event:
    zone = _zone(entry.timezone)
    event = Event()
    event.add("uid", uid(entry.event_id, domain))
    event.add("dtstamp", entry.stamp)
    event.add("last-modified", entry.stamp)
    event.add("sequence", entry.sequence)
    event.add("dtstart", _local(entry.starts_at, zone))
    event.add("dtend", _local(entry.ends_at, zone))
    event.add("summary", entry.title)
    if entry.description:
        event.add("description", entry.description)
    event.add("location", ", ".join(filter(None, (entry.venue_name, entry.venue_address))))
    event.add("geo", (entry.lat, entry.lon))
    event.add("url", entry.url)
    event.add("status", "CANCELLED" if entry.cancelled else "CONFIRMED")
    return event


def render(entries: list[Entry], *, name: str, domain: str) -> bytes:
    """A VCALENDAR of ``entries`` with the VTIMEZONE of every zone they use."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.calendar_name = name  # NAME (RFC 7986) and X-WR-CALNAME
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})  # RFC 7986
    calendar.add("x-published-ttl", "PT1H")  # the same, for Outlook
    for entry in entries:
        calendar.add_component(_vevent(entry, domain))
    if entries:
        first, last = _zone_span(entries)
        calendar.add_missing_timezones(first_date=first, last_date=last)
    return calendar.to_ical()
