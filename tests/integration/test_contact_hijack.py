"""The contact-graph hijack a black-box review found, replayed over HTTP step by step.

1. The victim imports their Twitter following; ``ghost_x`` is not on IRL yet.
2. The attacker claims ``ghost_x`` — before verified identities this turned the
   victim's pending import into "victim follows attacker".
3. The attacker follows the victim in the app: mutual, so the victim's location is open.
4. Unlink, claim the next handle, repeat.
Each step must now fail, and the real owner of ``ghost_x`` must still be found.
"""


def _victim_is_hidden_from(client, attacker, victim_checkin, venue):
    h = attacker["headers"]
    loc = venue["location"]
    assert client.get("/api/v1/feed", headers=h).json["items"] == []
    nearby = client.get(
        "/api/v1/nearby/contacts", headers=h, query_string={"lat": loc["lat"], "lon": loc["lon"]}
    )
    assert nearby.json["items"] == []
    assert client.get(f"/api/v1/venues/{venue['id']}/here", headers=h).json["items"] == []
    assert client.get(f"/api/v1/checkins/{victim_checkin['id']}", headers=h).status_code == 404


def test_claiming_a_pending_handle_gains_nothing(client, actions, verified):
    victim, attacker = actions.register(), actions.register()
    venue = actions.venue(victim, 40.741, -73.989)

    # 1. the victim's import leaves ghost_x pending
    imported = client.post(
        "/api/v1/me/contacts/import",
        headers=victim["headers"],
        json={"network": "twitter", "handles": ["ghost_x", "ghost_y"]},
    ).json
    assert imported["matched_count"] == 0 and imported["unmatched_count"] == 2

    # 2. the attacker claims it: an unverified claim, adopted by nobody
    for handle in ("ghost_x", "ghost_y"):  # 4. ... and the next one
        claimed = client.put(
            "/api/v1/me/identities/twitter", headers=attacker["headers"], json={"handle": handle}
        )
        assert claimed.status_code in (200, 201) and claimed.json["verified"] is False
        assert client.get("/api/v1/me/contacts", headers=victim["headers"]).json["items"] == []
        again = client.post(
            "/api/v1/me/contacts/import",
            headers=victim["headers"],
            json={"network": "twitter", "handles": [handle]},
        ).json
        assert again["matched_count"] == 0  # an unverified claim matches no import
        # nor can the attacker verify it: only ghost_x's owner can sign in as ghost_x
        refused = client.post("/api/v1/me/identities/twitter/verify", headers=attacker["headers"])
        assert refused.status_code == 422

    # 3. the attacker's follow stays one-way: no location
    follow = client.post(
        "/api/v1/me/contacts",
        headers=attacker["headers"],
        json={"handle": victim["user"]["handle"]},
    )
    assert follow.status_code == 201 and follow.json["mutual"] is False
    checkin = actions.check_in(victim, venue).json["checkin"]
    _victim_is_hidden_from(client, attacker, checkin, venue)

    # the real ghost_x signs in with Twitter: the victim's import now follows them
    ghost = actions.register()
    verified(ghost, "twitter", "ghost_x")
    contacts = client.get("/api/v1/me/contacts", headers=victim["headers"]).json["items"]
    assert [c["handle"] for c in contacts] == [ghost["user"]["handle"]]
    left = client.get("/api/v1/me/identities", headers=attacker["headers"]).json["items"]
    assert [(i["handle"], i["verified"]) for i in left] == [("ghost_y", False)]


def test_claims_are_shown_to_nobody_but_the_claimant(client, actions):
    claimant, other = actions.register(), actions.register()
    client.put(
        "/api/v1/me/identities/github", headers=claimant["headers"], json={"handle": "shown-gh"}
    )
    profile = client.get(f"/api/v1/users/{claimant['user']['handle']}", headers=other["headers"])
    assert "shown-gh" not in profile.get_data(as_text=True)
    imported = client.post(
        "/api/v1/me/contacts/import",
        headers=other["headers"],
        json={"network": "github", "handles": ["shown-gh"]},
    ).json
    assert imported["matched"] == [] and imported["unmatched_count"] == 1
