"""Linking online identities."""

import pytest


def test_link_list_replace_unlink(client, actions):
    user = actions.register()
    h = user["headers"]
    first = client.put(
        "/api/v1/me/identities/mastodon", headers=h, json={"handle": "@Alice@Mastodon.Social"}
    )
    assert first.status_code == 201
    assert first.json["handle"] == "alice@mastodon.social"
    again = client.put(
        "/api/v1/me/identities/mastodon", headers=h, json={"handle": "https://hachyderm.io/@alice"}
    )
    assert again.status_code == 200 and again.json["handle"] == "alice@hachyderm.io"
    client.put("/api/v1/me/identities/github", headers=h, json={"handle": "Alice"})
    listed = client.get("/api/v1/me/identities", headers=h).json
    assert [(i["network"], i["handle"]) for i in listed["items"]] == [
        ("github", "alice"),
        ("mastodon", "alice@hachyderm.io"),
    ]
    assert client.delete("/api/v1/me/identities/github", headers=h).status_code == 204
    assert client.delete("/api/v1/me/identities/github", headers=h).status_code == 404
    assert len(client.get("/api/v1/me/identities", headers=h).json["items"]) == 1


def test_one_identity_belongs_to_one_user(client, actions):
    a, b = actions.register(), actions.register()
    assert (
        client.put(
            "/api/v1/me/identities/twitter", headers=a["headers"], json={"handle": "@Same"}
        ).status_code
        == 201
    )
    response = client.put(
        "/api/v1/me/identities/twitter", headers=b["headers"], json={"handle": "same"}
    )
    assert response.status_code == 409
    assert "another account" in response.json["message"]


@pytest.mark.parametrize(
    ("network", "handle", "status"),
    [
        ("mastodon", "nobody", 422),
        ("twitter", "has space", 422),
        ("myspace", "tom", 404),
        ("twitter", "", 422),
    ],
)
def test_bad_identities(client, actions, network, handle, status):
    user = actions.register()
    response = client.put(
        f"/api/v1/me/identities/{network}", headers=user["headers"], json={"handle": handle}
    )
    assert response.status_code == status


def test_linking_adopts_earlier_imports(client, actions):
    importer, newcomer = actions.register(), actions.register()
    result = client.post(
        "/api/v1/me/contacts/import",
        headers=importer["headers"],
        json={"network": "github", "handles": ["NewComer"]},
    ).json
    assert result["matched_count"] == 0 and result["unmatched_count"] == 1
    client.put(
        "/api/v1/me/identities/github", headers=newcomer["headers"], json={"handle": "newcomer"}
    )
    contacts = client.get("/api/v1/me/contacts", headers=importer["headers"]).json["items"]
    assert [c["handle"] for c in contacts] == [newcomer["user"]["handle"]]
    assert contacts[0]["mutual"] is False
