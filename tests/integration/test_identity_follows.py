"""Follows adopted through an identity live and die with it; pending follows are bounded."""

from sqlalchemy import func, select

from service.database import db
from service.models import PendingFollow


def _import(client, user, network, handles):
    response = client.post(
        "/api/v1/me/contacts/import",
        headers=user["headers"],
        json={"network": network, "handles": handles},
    )
    assert response.status_code == 200, response.json
    return response.json


def _contacts(client, user):
    items = client.get("/api/v1/me/contacts", headers=user["headers"]).json["items"]
    return {c["handle"]: c["mutual"] for c in items}


def test_unlinking_withdraws_adopted_follows_but_not_app_follows(client, actions, verified):
    owner, via_import, via_app, both = (actions.register() for _ in range(4))
    verified(owner, "github", "owner-gh")
    for person in (via_import, both):
        _import(client, person, "github", ["owner-gh"])
    for person in (via_app, both):
        client.post(
            "/api/v1/me/contacts",
            headers=person["headers"],
            json={"handle": owner["user"]["handle"]},
        )
    client.post(
        "/api/v1/me/contacts", headers=owner["headers"], json={"handle": both["user"]["handle"]}
    )
    assert _contacts(client, both) == {owner["user"]["handle"]: True}

    assert (
        client.delete("/api/v1/me/identities/github", headers=owner["headers"]).status_code == 204
    )
    assert _contacts(client, via_import) == {}
    assert _contacts(client, via_app) == {owner["user"]["handle"]: False}
    assert _contacts(client, both) == {owner["user"]["handle"]: True}  # the app follow stays


def test_replacing_a_handle_withdraws_follows_through_the_old_one(client, actions, verified):
    owner, follower = actions.register(), actions.register()
    verified(owner, "mastodon", "owner@social.example")
    _import(client, follower, "mastodon", ["owner@social.example"])
    assert owner["user"]["handle"] in _contacts(client, follower)
    client.put(
        "/api/v1/me/identities/mastodon",
        headers=owner["headers"],
        json={"handle": "owner@other.example"},
    )
    assert _contacts(client, follower) == {}


def test_losing_a_handle_to_its_owner_withdraws_old_follows(app, client, actions, verified):
    """Data from before verification: a squatter's claim adopted a follow. When the real
    owner verifies the handle, the squatter loses the claim and that follow."""
    squatter, follower, owner = actions.register(), actions.register(), actions.register()
    client.put(
        "/api/v1/me/identities/twitter", headers=squatter["headers"], json={"handle": "famous"}
    )
    client.post(
        "/api/v1/me/contacts",
        headers=squatter["headers"],
        json={"handle": follower["user"]["handle"]},
    )
    with app.app_context():  # what the old code did on linking: adopt the pending import
        from service.contacts import pairs

        pairs.follow(db.session, follower["user"]["id"], [squatter["user"]["id"]], via="twitter")
        db.session.commit()
    assert _contacts(client, follower) == {squatter["user"]["handle"]: True}
    _import(client, follower, "twitter", ["famous"])  # still wants @famous

    verified(owner, "twitter", "famous")
    assert client.get("/api/v1/me/identities", headers=squatter["headers"]).json["items"] == []
    assert _contacts(client, follower) == {owner["user"]["handle"]: False}


def test_pending_follows_keep_the_newest_5000(app, client, actions, frozen_clock):
    user = actions.register()
    _import(client, user, "twitter", [f"old_{i}" for i in range(5000)])
    frozen_clock.advance(minutes=1)
    _import(client, user, "twitter", ["new_a", "new_b", "new_c"])
    _import(client, user, "github", ["elsewhere"])  # another network has its own cap
    with app.app_context():
        kept = set(
            db.session.scalars(
                select(PendingFollow.handle).where(
                    PendingFollow.follower_id == user["user"]["id"],
                    PendingFollow.network == "twitter",
                )
            )
        )
        github = db.session.scalar(
            select(func.count()).where(
                PendingFollow.follower_id == user["user"]["id"], PendingFollow.network == "github"
            )
        )
    assert len(kept) == 5000 and {"new_a", "new_b", "new_c"} <= kept
    assert github == 1


def test_purge_drops_pending_follows_after_180_days(
    client, actions, runner, verified, frozen_clock
):
    importer, late, early = actions.register(), actions.register(), actions.register()
    _import(client, importer, "github", ["late-joiner", "early-joiner"])
    frozen_clock.advance(days=100)
    _import(client, importer, "github", ["early-joiner"])  # re-imported: still followed
    frozen_clock.advance(days=81)
    result = runner.invoke(args=["purge-pending-follows"])
    assert result.exit_code == 0 and "purged 1 pending follows" in result.output
    verified(late, "github", "late-joiner")
    verified(early, "github", "early-joiner")
    assert _contacts(client, importer) == {early["user"]["handle"]: False}


def test_demo_users_are_found_by_import(app, client, actions):
    """``make run``'s demo: a newcomer importing a demo user's handle finds them."""
    from service.seed import demo

    with app.app_context():
        demo.seed_users(db_session=db.session)
        demo.seed_users(db_session=db.session)  # idempotent
        db.session.commit()
    newcomer = actions.register()
    for network, handle in demo.DEMO_IDENTITIES["alice"].items():
        found = _import(client, newcomer, network, [handle])
        assert [m["handle"] for m in found["matched"]] == ["alice"], network
