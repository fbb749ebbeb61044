"""Venue claims, admin decisions (API and CLI) and the audit log."""

import threading

import pytest
from sqlalchemy.orm import Session

from service.claims import service as claims
from service.database import db
from service.errors import Conflict
from tests.conftest import Actions, offset_point

HERE = (41.9028, 12.4964)  # Rome


@pytest.fixture
def admin(actions, runner):
    person = actions.register()
    result = runner.invoke(args=["make-admin", person["user"]["handle"]])
    assert result.exit_code == 0, result.output
    return person


def claim(client, user, venue, **body):
    return client.post(f"/api/v1/venues/{venue['id']}/claim", headers=user["headers"], json=body)


def audit_actions(client, admin) -> list[str]:
    response = client.get("/api/v1/admin/audit", headers=admin["headers"])
    assert response.status_code == 200
    return [entry["action"] for entry in response.json["items"]]


def test_claim_then_approve_makes_an_owner(client, actions, admin):
    owner, rival = actions.register(), actions.register()
    venue = actions.venue(rival, *HERE, name="Trattoria")
    first = claim(client, owner, venue, note="I am on the lease; call 555-0100")
    assert first.status_code == 201
    assert first.json["status"] == "pending" and first.json["venue_name"] == "Trattoria"
    assert claim(client, owner, venue).status_code == 409  # already pending
    second = claim(client, rival, venue)
    assert second.status_code == 201
    pending = client.get("/api/v1/admin/claims", headers=admin["headers"]).json["items"]
    assert {c["id"] for c in pending} == {first.json["id"], second.json["id"]}
    assert pending[0]["claimant"] in (owner["user"]["handle"], rival["user"]["handle"])
    approved = client.post(
        f"/api/v1/admin/claims/{first.json['id']}/approve", headers=admin["headers"]
    )
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    mine = client.get("/api/v1/me/venues", headers=owner["headers"]).json["items"]
    assert [v["id"] for v in mine] == [venue["id"]] and mine[0]["owned"] is True
    theirs = client.get("/api/v1/me/claims", headers=rival["headers"]).json["items"]
    assert theirs[0]["status"] == "rejected" and "Another claim" in theirs[0]["reason"]
    assert (
        client.post(
            f"/api/v1/admin/claims/{first.json['id']}/approve", headers=admin["headers"]
        ).status_code
        == 409
    )
    assert claim(client, rival, venue).status_code == 409  # it has an owner
    assert claim(client, owner, venue).status_code == 409  # it is already mine
    # the owner edits it now; the creator no longer can
    assert (
        client.patch(
            f"/api/v1/venues/{venue['id']}", headers=owner["headers"], json={"name": "Da Mario"}
        ).status_code
        == 200
    )
    assert (
        client.patch(
            f"/api/v1/venues/{venue['id']}", headers=rival["headers"], json={"name": "Mine"}
        ).status_code
        == 403
    )
    assert "claim.approve" in audit_actions(client, admin)


def test_reject_with_a_reason(client, actions, admin):
    person = actions.register()
    venue = actions.venue(person, *HERE)
    made = claim(client, person, venue).json
    rejected = client.post(
        f"/api/v1/admin/claims/{made['id']}/reject",
        headers=admin["headers"],
        json={"reason": "No proof of ownership."},
    )
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"
    assert (
        client.get("/api/v1/me/claims", headers=person["headers"]).json["items"][0]["reason"]
        == "No proof of ownership."
    )
    assert claim(client, person, venue).status_code == 201  # may ask again
    listed = client.get(
        "/api/v1/admin/claims", headers=admin["headers"], query_string={"status": "rejected"}
    ).json["items"]
    assert [c["id"] for c in listed] == [made["id"]]
    assert "claim.reject" in audit_actions(client, admin)


def test_only_admins_decide(client, actions):
    person, other = actions.register(), actions.register()
    venue = actions.venue(person, *HERE)
    made = claim(client, person, venue).json
    for user in (person, other):
        assert client.get("/api/v1/admin/claims", headers=user["headers"]).status_code == 403
        assert client.get("/api/v1/admin/audit", headers=user["headers"]).status_code == 403
        for action in ("approve", "reject"):
            response = client.post(
                f"/api/v1/admin/claims/{made['id']}/{action}", headers=user["headers"], json={}
            )
            assert response.status_code == 403
    assert client.get("/api/v1/me/venues", headers=person["headers"]).json["items"] == []


def test_unknown_claims_and_venues(client, actions, admin):
    person = actions.register()
    assert (
        client.post(
            "/api/v1/venues/987654321/claim", headers=person["headers"], json={}
        ).status_code
        == 404
    )
    for action in ("approve", "reject"):
        response = client.post(
            f"/api/v1/admin/claims/987654321/{action}", headers=admin["headers"], json={}
        )
        assert response.status_code == 404
    venue = actions.venue(person, *HERE)
    assert claim(client, person, venue, note="x" * 501).status_code == 422
    assert claim(client, person, venue, extra=1).status_code == 422


def test_cli_approves_rejects_and_everything_is_audited(client, actions, admin, runner):
    person = actions.register()
    venue = actions.venue(person, *HERE)
    other = actions.venue(person, *offset_point(HERE, 400))
    first, second = claim(client, person, venue).json, claim(client, person, other).json
    result = runner.invoke(args=["approve-claim", str(first["id"])])
    assert result.exit_code == 0 and "approved" in result.output
    result = runner.invoke(args=["reject-claim", str(second["id"]), "--reason", "Duplicate"])
    assert result.exit_code == 0
    again = runner.invoke(args=["approve-claim", str(first["id"])])
    assert again.exit_code != 0 and "already approved" in again.output
    assert runner.invoke(args=["approve-claim", "0"]).exit_code != 0
    assert runner.invoke(args=["make-admin", "no_such_person"]).exit_code != 0
    entries = client.get("/api/v1/admin/audit", headers=admin["headers"]).json["items"]
    by_action = {entry["action"]: entry for entry in entries}
    assert {"user.make_admin", "claim.approve", "claim.reject"} <= set(by_action)
    assert by_action["claim.approve"]["admin"] is None  # the command line
    assert by_action["claim.reject"]["details"]["reason"] == "Duplicate"


def test_admin_edits_of_someone_elses_venue_are_audited(client, actions, admin):
    person = actions.register()
    venue = actions.venue(person, *HERE)
    assert (
        client.patch(
            f"/api/v1/venues/{venue['id']}", headers=admin["headers"], json={"name": "Renamed"}
        ).status_code
        == 200
    )
    assert (
        client.put(
            f"/api/v1/venues/{venue['id']}/staff/{person['user']['handle']}",
            headers=admin["headers"],
        ).status_code
        == 201
    )
    assert client.delete(f"/api/v1/venues/{venue['id']}", headers=admin["headers"]).status_code in (
        200,
        204,
    )
    actions_logged = audit_actions(client, admin)
    assert {"venue.update", "staff.invite", "venue.delete"} <= set(actions_logged)
    own = actions.venue(admin, *offset_point(HERE, 800))
    before = len(actions_logged)
    client.patch(f"/api/v1/venues/{own['id']}", headers=admin["headers"], json={"name": "Mine"})
    assert len(audit_actions(client, admin)) == before  # their own venue: not an admin act


def test_rival_claims_approved_at_once_make_one_owner(live_app):
    """Two admins approve rival claims on one venue at the same moment: one makes an
    owner, the other is told its claim was decided; neither deadlocks."""
    client = live_app.test_client()
    actions = Actions(client)
    first, second, creator = (actions.register() for _ in range(3))
    venue = actions.venue(creator, *HERE)
    ids = [claim(client, user, venue).json["id"] for user in (first, second)]
    engine = db.state(live_app).engine
    start = threading.Barrier(2)
    outcomes = []

    def approve(claim_id):
        with live_app.app_context(), Session(engine) as session:
            start.wait()
            try:
                claims.approve(db_session=session, claim_id=claim_id, admin_id=None)
                session.commit()
                outcomes.append("approved")
            except Conflict:
                outcomes.append("conflict")

    threads = [threading.Thread(target=approve, args=(claim_id,)) for claim_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["approved", "conflict"]
    owned = [
        client.get("/api/v1/me/venues", headers=user["headers"]).json["items"]
        for user in (first, second)
    ]
    assert sorted(len(venues) for venues in owned) == [0, 1]
