"""An app developer's first step, end to end: generate a Python client with
openapi-python-client from the live server's /api/v1/openapi.json and drive one real flow
through it against gunicorn on the test database. Every answer is read through the
generated models' typed attributes, so an answer the document misdescribes (a field
missing, renamed, of another type or enum value) fails here."""

import json
import uuid

import httpx
import pytest

from tests.clients import generators
from tests.conftest import TEST_DATABASE_URL
from tests.live import process_env, running_api

pytestmark = pytest.mark.gunicorn

JWT_SECRET = "test-secret-" + "x" * 40
CAFE = (40.7306, -73.9866)  # lat, lon


@pytest.fixture(scope="module")
def server(tmp_path_factory, engine):
    env = process_env(TEST_DATABASE_URL, JWT_SECRET)
    with running_api(env, tmp_path_factory.mktemp("clients") / "gunicorn.log") as base:
        yield base


@pytest.fixture(scope="module")
def document(server) -> dict:
    answer = httpx.get(f"{server}/api/v1/openapi.json")
    assert answer.status_code == 200
    return answer.json()


@pytest.fixture(scope="module")
def irl(document, tmp_path_factory):
    """The generated package (``irl_client``), imported."""
    folder = tmp_path_factory.mktemp("python-client")
    generated = generators.generate_python(generators.write_document(document, folder), folder)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "Warning" not in generated.stdout + generated.stderr
    return generators.import_python(folder)


class Api:
    """The generated operations, called as an app does: ``api.call(status, tag, id, ...)``
    returns the parsed answer after checking its status."""

    def __init__(self, irl, base: str):
        self.irl = irl
        self.models = irl.models
        self.base = base
        self.clients = []

    def client(self, token: str | None = None, **headers):
        """A generated client (signed in with ``token``) that raises on an undeclared status."""
        if token is None:
            client = self.irl.Client(base_url=self.base, raise_on_unexpected_status=True)
        else:
            client = self.irl.AuthenticatedClient(
                base_url=self.base, token=token, headers=headers, raise_on_unexpected_status=True
            )
        self.clients.append(client)
        return client

    def call(self, status: int, tag: str, operation_id: str, **kwargs):
        answer = generators.operation(self.irl, tag, operation_id).sync_detailed(**kwargs)
        assert answer.status_code == status, answer.content
        return answer.parsed

    def close(self) -> None:
        for client in self.clients:
            client.get_httpx_client().close()


@pytest.fixture
def api(irl, server, live_app):
    api = Api(irl, server)
    yield api
    api.close()


def register(api: Api, handle: str):
    """A new account, signed in."""
    body = api.models.Register(
        handle=handle,
        email=f"{handle}@example.com",
        password="correct horse battery",
        display_name=handle.title(),
    )
    registered = api.call(201, "auth", "register", client=api.client(), body=body)
    assert isinstance(registered, api.models.Registered)
    assert registered.token_type == api.models.RegisteredTokenType.BEARER
    assert registered.user.handle == handle and registered.user.points == 0
    return registered


def befriend(api: Api, a, b) -> None:
    """Make ``a`` and ``b`` mutual contacts: each follows the other."""
    for follower, followee in ((a, b), (b, a)):
        body = api.models.Follow(handle=followee.user.handle)
        client = api.client(follower.access_token)
        contact = api.call(201, "contacts", "createContact", client=client, body=body)
        assert isinstance(contact, api.models.Contact)
        assert contact.handle == followee.user.handle


def create_venue(api: Api, person, name: str):
    """A venue at CAFE."""
    m = api.models
    body = m.VenueCreate(name=name, category="Coffee", location=m.Location(*CAFE))
    venue = api.call(
        201, "venues", "createVenue", client=api.client(person.access_token), body=body
    )
    assert isinstance(venue, m.Venue) and venue.name == name and venue.address is None
    assert (venue.location.lat, venue.location.lon) == CAFE
    return venue


def check_nearby(api: Api, person, venue) -> None:
    """The venue nearby as a JSON page, then as GeoJSON asked both ways."""
    m = api.models
    near = {"lat": CAFE[0], "lon": CAFE[1], "radius_m": 500.0}
    as_json = api.client(person.access_token)
    page = api.call(200, "venues", "listNearbyVenues", client=as_json, **near)
    assert isinstance(page, m.NearbyVenuesPage) and page.next_cursor is None
    assert [item.id for item in page.items] == [venue.id] and page.items[0].distance_m < 1
    geojson = m.ListNearbyVenuesFormat.GEOJSON
    by_format = api.call(200, "venues", "listNearbyVenues", client=as_json, format_=geojson, **near)
    as_geojson = api.client(person.access_token, Accept="application/geo+json")
    by_accept = api.call(200, "venues", "listNearbyVenues", client=as_geojson, **near)
    for collection in (by_format, by_accept):
        assert isinstance(collection, m.NearbyVenuesFeatureCollection)
        (feature,) = collection.features
        assert feature.geometry.type_ == m.PointType.POINT
        assert feature.geometry.coordinates == [CAFE[1], CAFE[0]]  # [lon, lat]
        assert feature.id == venue.id and feature.properties.name == venue.name


def check_in(api: Api, person, venue, **headers):
    """Check ``person`` in at ``venue``, where it is."""
    m = api.models
    body = m.CheckinCreate(venue_id=venue.id, location=m.Location(*CAFE))
    client = api.client(person.access_token)
    done = api.call(201, "checkins", "createCheckin", client=client, body=body, **headers)
    assert isinstance(done, m.CheckinResult) and done.checkin.venue.id == venue.id
    return done


def test_one_flow_through_the_generated_python_client(api):
    m = api.models
    alice, bob = register(api, "alice_py"), register(api, "bob_py")
    befriend(api, alice, bob)
    venue = create_venue(api, alice, "Generated Cafe")
    check_nearby(api, alice, venue)

    first = check_in(api, alice, venue, idempotency_key=str(uuid.uuid4()))
    assert first.rewards.eligible and first.rewards.points == 5 + 10  # and a first visit
    assert first.checkin.reasons == [] and first.meetings == []
    second = check_in(api, bob, venue)
    (meeting,) = second.meetings
    assert meeting.user.handle == alice.user.handle and meeting.first_time
    assert second.rewards.points == 5 + 10 + 50  # and the first meeting of the pair

    as_alice, as_bob = api.client(alice.access_token), api.client(bob.access_token)
    me = api.call(200, "users", "getMe", client=as_bob)
    assert isinstance(me, m.Me) and me.points == 65 and me.checkin_count == 1
    badges = api.call(200, "rewards", "listMyBadges", client=as_bob)
    assert isinstance(badges, m.EarnedBadges)
    assert {"newbie", "face_to_face"} <= {badge.key for badge in badges.items}
    meetings = api.call(200, "meetings", "listMyMeetings", client=as_alice)
    assert isinstance(meetings, m.MeetingPage)
    (met,) = meetings.items
    assert met.user.handle == bob.user.handle and met.venue.id == venue.id and met.first_time

    inbox = api.call(200, "notifications", "listMyNotifications", client=as_alice)
    assert isinstance(inbox, m.NotificationPage)
    assert m.NotificationKind.MEETING in {notification.kind for notification in inbox.items}
    assert inbox.unread_count == len(inbox.items)
    read = m.MarkRead(ids=[notification.id for notification in inbox.items])
    done = api.call(200, "notifications", "markNotificationsRead", client=as_alice, body=read)
    assert isinstance(done, m.MarkReadResult)

    missing = api.call(404, "venues", "getVenue", client=as_alice, venue_id=venue.id + 1000)
    assert isinstance(missing, m.Error) and missing.code == 404 and missing.message


def test_a_wrongly_described_answer_fails_to_parse(api, document, tmp_path):
    """The attack on the test above: a document whose check-in answer names a field the
    server does not send (``points`` renamed) gives a client that cannot read the answer."""
    carol = register(api, "carol_py")
    venue = create_venue(api, carol, "Cafe")
    body = api.models.CheckinCreate(venue_id=venue.id, location=api.models.Location(*CAFE))
    create_checkin = generators.operation(api.irl, "checkins", "createCheckin")
    answer = create_checkin.sync_detailed(client=api.client(carol.access_token), body=body)
    assert answer.status_code == 201

    broken = json.loads(json.dumps(document))
    rewards = broken["components"]["schemas"]["Rewards"]
    rewards["properties"]["total_points"] = rewards["properties"].pop("points")
    rewards["required"] = [name.replace("points", "total_points") for name in rewards["required"]]
    path = generators.write_document(broken, tmp_path)
    generated = generators.generate_python(path, tmp_path, package="misled_client")
    assert generated.returncode == 0, generated.stdout + generated.stderr
    misled = generators.import_python(tmp_path, package="misled_client")
    with pytest.raises(KeyError, match="total_points"):
        misled.models.CheckinResult.from_dict(json.loads(answer.content))
