"""Every reader of whereabouts against the one rule (``service/presence/visibility.py``):
endpoint by the subject's sharing by private check-in by the viewer's relationship.

The rule: a check-in is visible to a viewer when they are mutual contacts, the subject
does not share ``off`` and the check-in is not private; venue-naming answers ("here",
the venue in a feed item) also need ``exact``; meetings and nearby notifications also
need the check-in to be eligible. Each cell of the table is asserted, so a reader that
forgets a part of the rule fails here.
"""

import pytest

from tests.conftest import befriend, offset_point

pytestmark = pytest.mark.usefixtures("no_positions_or_tokens_in_logs")

ORIGIN = (52.5200, 13.4050)  # Berlin
RELATIONSHIPS = ("mutual", "one_way", "stranger")


def visible(relationship: str, sharing: str, private: bool) -> bool:
    """The rule, written once more, independently of the service."""
    return relationship == "mutual" and sharing != "off" and not private


@pytest.fixture
def scene(client, actions):
    """Viewers with a recent check-in near the origin, and the subject's two check-ins."""

    def make(sharing: str) -> dict:
        subject = actions.register()
        viewers = {name: actions.register() for name in RELATIONSHIPS}
        befriend(client, subject, viewers["mutual"])
        client.post(
            "/api/v1/me/contacts",
            headers=viewers["one_way"]["headers"],
            json={"handle": subject["user"]["handle"]},
        )
        public_venue = actions.venue(subject, *ORIGIN, name="Open cafe")
        private_venue = actions.venue(subject, *offset_point(ORIGIN, 400), name="Hidden bar")
        near = actions.venue(subject, *offset_point(ORIGIN, 250, azimuth=0), name="Kiosk")
        for viewer in viewers.values():  # near both, too far to meet
            # 5 km: even an approximate subject's shown cell centre is within reach
            client.patch("/api/v1/me", headers=viewer["headers"], json={"nearby_radius_m": 5000})
            assert actions.check_in(viewer, near).json["rewards"]["eligible"]
        client.patch("/api/v1/me", headers=subject["headers"], json={"location_sharing": sharing})
        checkins = {}
        for private, venue in ((False, public_venue), (True, private_venue)):
            answer = actions.check_in(subject, venue, private=private).json
            assert answer["rewards"]["eligible"]
            checkins[private] = {"id": answer["checkin"]["id"], "venue": venue}
        return {"subject": subject, "viewers": viewers, "checkins": checkins}

    return make


@pytest.mark.parametrize("sharing", ["exact", "approximate", "off"])
def test_every_reader_follows_the_rule(client, actions, scene, sharing):
    world = scene(sharing)
    subject = world["subject"]["user"]["handle"]
    here = {"lat": ORIGIN[0], "lon": ORIGIN[1], "radius_m": 5000}
    for relationship, viewer in world["viewers"].items():
        h = viewer["headers"]
        feed = client.get("/api/v1/feed", headers=h).json["items"]
        nearby = client.get("/api/v1/nearby/contacts", headers=h, query_string=here).json["items"]
        notes = client.get("/api/v1/me/notifications?limit=100", headers=h).json["items"]
        # then the viewer goes to both of the subject's venues: a meeting, or not
        arrivals = {
            private: actions.check_in(viewer, checkin["venue"]).json
            for private, checkin in world["checkins"].items()
        }
        for private, checkin in world["checkins"].items():
            cell = (relationship, sharing, private)
            expected = visible(relationship, sharing, private)
            venue = checkin["venue"]
            # feed and one check-in
            assert (checkin["id"] in {item["id"] for item in feed}) is expected, cell
            detail = client.get(f"/api/v1/checkins/{checkin['id']}", headers=h)
            assert detail.status_code == (200 if expected else 404), cell
            if expected:
                shown_venue = detail.json["venue"]
                assert (shown_venue is not None) is (sharing == "exact"), cell
            # here: names a venue, so exact sharing only
            people = client.get(f"/api/v1/venues/{venue['id']}/here", headers=h).json["items"]
            named = subject in {p["user"]["handle"] for p in people}
            assert named is (expected and sharing == "exact"), cell
            # meetings (the viewer arrives after): also eligible, which both were
            met = subject in {m["user"]["handle"] for m in arrivals[private]["meetings"]}
            assert met is expected, cell
            # the nearby notification about this check-in
            told = any(
                n["kind"] == "nearby" and n["data"].get("checkin_id") == checkin["id"]
                for n in notes
            )
            assert told is expected, cell
        # nearby contacts: the latest *visible* check-in places the subject, never the
        # private one
        listed = [item for item in nearby if item["user"]["handle"] == subject]
        assert bool(listed) is visible(relationship, sharing, False), (relationship, sharing)
        for item in listed:
            hidden = world["checkins"][True]["venue"]["id"]
            assert (item["venue"] or {}).get("id") != hidden


def test_the_subject_always_sees_their_own(client, scene):
    world = scene("off")
    h = world["subject"]["headers"]
    for checkin in world["checkins"].values():
        assert client.get(f"/api/v1/checkins/{checkin['id']}", headers=h).status_code == 200


def test_turning_sharing_back_on_reveals_nothing_made_while_off(client, actions, friends):
    """A person switches sharing off, checks in at a clinic, and switches back on: the
    clinic visit stays hidden from contacts — feed, here, nearby, the check-in itself and
    meetings."""
    person, contact = friends(2)
    client.patch("/api/v1/me", headers=person["headers"], json={"location_sharing": "off"})
    clinic = actions.venue(person, *ORIGIN, name="Clinic")
    visit = actions.check_in(person, clinic).json["checkin"]["id"]
    client.patch("/api/v1/me", headers=person["headers"], json={"location_sharing": "exact"})
    h = contact["headers"]
    assert visit not in {i["id"] for i in client.get("/api/v1/feed", headers=h).json["items"]}
    assert client.get(f"/api/v1/checkins/{visit}", headers=h).status_code == 404
    assert client.get(f"/api/v1/venues/{clinic['id']}/here", headers=h).json["items"] == []
    nearby = client.get(
        "/api/v1/nearby/contacts",
        headers=h,
        query_string={"lat": ORIGIN[0], "lon": ORIGIN[1], "radius_m": 5000},
    ).json["items"]
    assert nearby == []
    assert actions.check_in(contact, clinic).json["meetings"] == []
