"""What the calendar documents link to, and how they are answered over HTTP."""

from flask import Response, current_app, url_for


def event_url(event_id: int) -> str:
    """The event's API URL (an entry's URL property)."""
    return url_for("events.EventById", event_id=event_id, _external=True)


def uid_domain() -> str:
    """The right-hand side of every UID: fixed, so UIDs never change with the Host."""
    return current_app.config["CALENDAR_UID_DOMAIN"]


def feed_urls(token: str) -> dict:
    """The secret feed URL, as https and as webcal (phones subscribe to the latter)."""
    url = url_for("calendars.MyEventsFeed", token=token, _external=True)
    return {"feed_url": url, "webcal_url": "webcal://" + url.split("://", 1)[1]}


def ics_response(body: bytes, filename: str, cache: str) -> Response:
    """``text/calendar; charset=utf-8``, named, never sending its URL on as a referrer."""
    headers = {
        "Content-Disposition": f'inline; filename="{filename}"',
        "Cache-Control": cache,
        "Referrer-Policy": "no-referrer",
    }
    return Response(body, mimetype="text/calendar", headers=headers)
