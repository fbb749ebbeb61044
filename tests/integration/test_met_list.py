"""GET /me/met and /me/met.csv (issue 19, "Met in person, back to the networks"): the
people I met, through their verified identities only, as JSON and as the files the
networks import; Mastodon's read by a parser that follows Mastodon's own importer."""

import csv
import io
import re
import uuid
from datetime import timedelta
from functools import partial

import pytest

from service.contacts.importers import parse_upload
from tests.conftest import PINNED_AT, Actions, Clock, befriend, rolled_back, verify_identity

SPOT = (40.7306, -73.9866)
MET = "/api/v1/me/met"
EXPORT = "/api/v1/me/met.csv"


# --- Mastodon's Import → Lists, as its source implements it ---------------------------
# mastodon/mastodon app/models/form/import.rb (Form::Import):
#   EXPECTED_HEADERS_BY_TYPE[:lists] = ['List name', 'Account address']; the file is opened as UTF-8
#   CSV with headers: true, skip_blanks: true; when the first header is not one of
#   KNOWN_FIRST_HEADERS ('Account address', '#domain', '#uri', 'List name') it is read
#   again with the default headers ['List name', 'Account address'] (no header row); the
#   import is refused unless both headers are present, or over ROWS_PROCESSING_LIMIT
#   (20,000) rows; 'Account address' is stripped and loses a leading '@', 'List name' is
#   stripped. app/services/bulk_import_service.rb (import_lists!) creates each distinct
#   list name; app/services/bulk_import_row_service.rb resolves each acct
#   (ResolveAccountService, domain = acct.split('@')[1]), follows it and adds it to the list.
KNOWN_FIRST_HEADERS = ("Account address", "#domain", "#uri", "List name")
LIST_HEADERS = ["List name", "Account address"]
ROWS_PROCESSING_LIMIT = 20_000
ACCT = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")  # a remote account: user@domain


def mastodon_import_lists(data: bytes) -> dict[str, list[str]]:
    """The lists and their accounts Mastodon's importer takes from ``data``; raises
    AssertionError where Mastodon would refuse the file."""
    text = data.decode("utf-8")  # encoding: 'UTF-8'; a BOM would spoil the first cell
    assert not text.startswith("\ufeff")
    rows = [row for row in csv.reader(io.StringIO(text), strict=True) if row]  # skip_blanks
    assert rows, "imports.errors.empty"  # an empty file is refused; a header alone is not
    if rows[0] and rows[0][0] in KNOWN_FIRST_HEADERS:
        headers, rows = rows[0], rows[1:]
    else:
        headers = LIST_HEADERS
    assert all(h in headers for h in LIST_HEADERS), "imports.errors.incompatible_type"
    assert len(rows) <= ROWS_PROCESSING_LIMIT, "over_rows_processing_limit"
    lists: dict[str, list[str]] = {}
    for row in rows:
        record = dict(zip(headers, row, strict=False))
        acct = re.sub(r"\A@", "", record["Account address"].strip())
        assert ACCT.fullmatch(acct), f"ResolveAccountService cannot resolve {acct!r}"
        lists.setdefault(record["List name"].strip(), []).append(acct)
    return lists


# --- the world ----------------------------------------------------------------------


def _name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def _meet(actions, a: dict, b: dict, venue: dict, clock) -> None:
    """a then b check in at ``venue`` half an hour apart: one meeting."""
    assert actions.check_in(a, venue).status_code == 201
    clock.advance(minutes=30)
    response = actions.check_in(b, venue)
    assert response.status_code == 201, response.json
    assert [m["user"]["handle"] for m in response.json["meetings"]] == [a["user"]["handle"]]


@pytest.fixture(scope="module")
def shared_world(base_app, engine, networks):
    """The world, built once per module (and xdist worker) inside a transaction rolled
    back at the end, on a clock pinned for the whole module."""
    with pytest.MonkeyPatch.context() as patch, rolled_back(base_app, engine) as connection:
        pinned = Clock(patch)
        pinned.current = PINNED_AT
        client = base_app.test_client()
        verified = partial(verify_identity, client, networks)
        built = _build(client, Actions(client), verified, pinned)
        yield built, connection, pinned, pinned.current


@pytest.fixture
def client(base_app):
    """Requests inside the shared world's transaction (not a test transaction of its own)."""
    return base_app.test_client()


@pytest.fixture
def world(shared_world):
    """The shared world at the time it was built; each test's changes rolled back."""
    built, connection, pinned, built_at = shared_world
    pinned.current = built_at
    savepoint = connection.begin_nested()
    try:
        yield built
    finally:
        savepoint.rollback()


def _build(client, actions, verified, pinned_clock) -> dict:
    """Me; Bea (met twice: Mastodon, GitHub verified), Cy (met once, Mastodon only
    claimed), Dee (a contact with Mastodon verified, never met), Eve (verified, a
    stranger), and a stranger pair Xan and Yul who met each other."""
    people = {key: actions.register(_name(key)) for key in ("me", "bea", "cy", "dee", "eve")}
    people |= {key: actions.register(_name(key)) for key in ("xan", "yul")}
    for key in ("bea", "cy", "dee"):
        befriend(client, people["me"], people[key])
    befriend(client, people["xan"], people["yul"])
    handles = {
        key: f"{people[key]['user']['handle']}@social.example"
        for key in ("bea", "cy", "dee", "eve", "yul")
    }
    for key in ("bea", "dee", "eve", "yul"):
        verified(people[key], "mastodon", handles[key])
    verified(people["bea"], "github", people["bea"]["user"]["handle"])
    claim = client.put(
        "/api/v1/me/identities/mastodon",
        headers=people["cy"]["headers"],
        json={"handle": handles["cy"]},
    )
    assert claim.status_code in (200, 201) and claim.json["verified"] is False
    me = people["me"]
    cafe = actions.venue(me, *SPOT, name="Cafe")
    start = pinned_clock.current
    pinned_clock.advance(hours=1)
    _meet(actions, me, people["bea"], cafe, pinned_clock)  # day 0
    pinned_clock.advance(days=1)
    _meet(actions, people["bea"], me, cafe, pinned_clock)  # day 1
    pinned_clock.advance(days=1)
    day2 = pinned_clock.current
    _meet(actions, me, people["cy"], cafe, pinned_clock)  # day 2
    _meet(actions, people["xan"], people["yul"], cafe, pinned_clock)
    return {"people": people, "handles": handles, "start": start, "day2": day2}


def _get(client, user, url, **query):
    return client.get(url, headers=user["headers"], query_string=query)


def _export(client, user, network="mastodon", **query):
    response = _get(client, user, EXPORT, network=network, **query)
    assert response.status_code == 200, response.json
    return response


# --- JSON ---------------------------------------------------------------------------


def test_the_people_i_met_with_their_verified_identities(client, world):
    people, handles = world["people"], world["handles"]
    response = _get(client, people["me"], MET)
    assert response.status_code == 200, response.json
    items = response.json["items"]
    assert [i["handle"] for i in items] == [
        people["cy"]["user"]["handle"],
        people["bea"]["user"]["handle"],
    ]
    cy, bea = items
    assert bea["meetings"] == 2 and cy["meetings"] == 1
    assert bea["first_met_at"] < bea["last_met_at"]
    assert bea["display_name"] == people["bea"]["user"]["display_name"]
    assert bea["contact"] is True
    assert [(i["network"], i["handle"]) for i in bea["identities"]] == [
        ("github", people["bea"]["user"]["handle"]),
        ("mastodon", handles["bea"]),
    ]
    assert cy["identities"] == []  # a claim counts for nothing until verified
    assert response.json["next_cursor"] is None


def test_pages_and_network_filter(client, world):
    people = world["people"]
    first = _get(client, people["me"], MET, limit=1).json
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = _get(client, people["me"], MET, limit=1, cursor=first["next_cursor"]).json
    assert second["next_cursor"] is None
    assert [first["items"][0]["handle"], second["items"][0]["handle"]] == [
        people["cy"]["user"]["handle"],
        people["bea"]["user"]["handle"],
    ]
    github = _get(client, people["me"], MET, network="github").json["items"]
    assert [i["handle"] for i in github] == [people["bea"]["user"]["handle"]]
    assert _get(client, people["me"], MET, network="bluesky").json["items"] == []


def test_since_returns_only_people_whose_meetings_changed(client, world, verified):
    people = world["people"]
    since = world["day2"].isoformat()
    items = _get(client, people["me"], MET, since=since).json["items"]
    assert [i["handle"] for i in items] == [people["cy"]["user"]["handle"]]
    later = (world["day2"] + timedelta(days=1)).isoformat()
    assert _get(client, people["me"], MET, since=later).json["items"] == []
    # Cy verifies her claim after that: she is an update, and now in the export
    verified(people["cy"], "mastodon", world["handles"]["cy"])
    items = _get(client, people["me"], MET, since=world["day2"].isoformat()).json["items"]
    assert [(i["network"], i["handle"]) for i in items[0]["identities"]] == [
        ("mastodon", world["handles"]["cy"])
    ]
    lists = mastodon_import_lists(_export(client, people["me"], since=since).data)
    assert lists == {"Met IRL": [world["handles"]["cy"]]}


# --- the files ----------------------------------------------------------------------


def test_mastodon_import_reads_a_list_met_irl_of_exactly_the_people_i_met(client, world):
    response = _export(client, world["people"]["me"])
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="lists_met_irl.csv"'
    # Bea only: Cy's claim is unverified, Dee was never met, Eve is a stranger
    assert mastodon_import_lists(response.data) == {"Met IRL": [world["handles"]["bea"]]}
    assert response.data == (
        f"List name,Account address\r\nMet IRL,{world['handles']['bea']}\r\n".encode()
    )


@pytest.mark.parametrize("network", ["github", "bluesky", "twitter"])
def test_other_networks_one_handle_per_line(client, world, network):
    response = _export(client, world["people"]["me"], network=network)
    assert response.mimetype == "text/plain"
    assert f'filename="met_irl_{network}.txt"' in response.headers["Content-Disposition"]
    expected = [world["people"]["bea"]["user"]["handle"]] if network == "github" else []
    assert response.get_data(as_text=True).splitlines() == expected
    assert parse_upload(response.data) == expected  # IRL's own contact import reads it back


def test_someone_who_drops_me_takes_their_handles_with_them(client, world):
    """After a meeting Bea unfollows me: she stays someone I met, but her handles (even
    ones she verifies later) are hers to give, and contacts only are given them."""
    people = world["people"]
    gone = client.delete(
        f"/api/v1/me/contacts/{people['me']['user']['handle']}", headers=people["bea"]["headers"]
    )
    assert gone.status_code == 204
    items = _get(client, people["me"], MET).json["items"]
    bea = next(i for i in items if i["handle"] == people["bea"]["user"]["handle"])
    assert bea["contact"] is False and bea["identities"] == []
    assert mastodon_import_lists(_export(client, people["me"]).data) == {}  # a no-op import
    assert _get(client, people["me"], MET, network="mastodon").json["items"] == []


def test_another_users_list_never_leaks(client, world):
    """The attack: Xan (a stranger who met Yul) wants my list. Nothing in either URL
    names whose list it is, so he tries naming me in the query: it is ignored, and he
    gets his own list; mine holds nobody of his."""
    people, handles = world["people"], world["handles"]
    xan, me = people["xan"], people["me"]
    own_file = {"Met IRL": [handles["yul"]]}
    own_list = [people["yul"]["user"]["handle"]]
    assert mastodon_import_lists(_export(client, xan).data) == own_file
    assert [i["handle"] for i in _get(client, xan, MET).json["items"]] == own_list
    for extra in ({"handle": me["user"]["handle"]}, {"user_id": me["user"]["id"]}):
        assert mastodon_import_lists(_export(client, xan, **extra).data) == own_file
        assert [i["handle"] for i in _get(client, xan, MET, **extra).json["items"]] == own_list
    mine = mastodon_import_lists(_export(client, me).data)
    assert mine == {"Met IRL": [handles["bea"]]}
    assert client.get(MET).status_code == 401
    assert client.get(EXPORT, query_string={"network": "mastodon"}).status_code == 401


# --- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "query", "field", "words"),
    [
        (EXPORT, {"network": "myspace"}, "network", "Unknown network"),
        (EXPORT, {"network": "linkedin"}, "network", "LinkedIn has no list import"),
        (EXPORT, {"network": "instagram"}, "network", "Instagram has no list import"),
        (EXPORT, {}, "network", ""),
        (MET, {"network": "myspace"}, "network", ""),
        (MET, {"since": "yesterday"}, "since", ""),
        (MET, {"since": "2026-06-10T16:00:00"}, "since", "UTC offset"),
        (EXPORT, {"network": "mastodon", "since": "2026-13-01T00:00:00Z"}, "since", ""),
        (MET, {"limit": 101}, "limit", ""),
        (MET, {"cursor": "not-a-cursor"}, "cursor", ""),
    ],
)
def test_bad_input_is_422_and_changes_nothing(client, world, url, query, field, words):
    me = world["people"]["me"]
    before = _get(client, me, MET).json
    response = _get(client, me, url, **query)
    assert response.status_code == 422, response.json
    assert field in str(response.json.get("errors")), response.json
    assert words in str(response.json), response.json
    assert _get(client, me, MET).json == before
