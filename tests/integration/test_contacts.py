"""Contact imports (JSON and the files people have), follows, mutual contacts."""

import io

import pytest


def _contacts(client, user, **params):
    return client.get("/api/v1/me/contacts", headers=user["headers"], query_string=params).json


def test_json_import_matches_linked_identities(client, actions, verified):
    me, ann, ben = actions.register(), actions.register(), actions.register()
    verified(ann, "twitter", "ann_tw")
    verified(ben, "twitter", "ben_tw")
    response = client.post(
        "/api/v1/me/contacts/import",
        headers=me["headers"],
        json={
            "network": "twitter",
            "handles": ["@Ann_TW", "ben_tw", "stranger", "not a handle!", "ann_tw"],
        },
    )
    assert response.status_code == 200
    body = response.json
    assert body["matched_count"] == 2
    assert body["unmatched_count"] == 1
    assert body["invalid_count"] == 1
    assert {m["network_handle"] for m in body["matched"]} == {"ann_tw", "ben_tw"}
    assert all(m["mutual"] is False for m in body["matched"])
    listed = _contacts(client, me)["items"]
    assert {c["handle"] for c in listed} == {ann["user"]["handle"], ben["user"]["handle"]}


def test_mastodon_export_upload(client, actions, verified):
    me, ann = actions.register(), actions.register()
    verified(ann, "mastodon", "ann@mastodon.social")
    export = (
        "Account address,Show boosts,Notify on new posts,Languages\n"
        "ann@mastodon.social,true,false,\n"
        "ghost@example.social,true,false,en\n"
    )
    response = client.post(
        "/api/v1/me/contacts/import",
        headers=me["headers"],
        data={
            "network": "mastodon",
            "file": (io.BytesIO(export.encode()), "following_accounts.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.json
    assert response.json["matched_count"] == 1 and response.json["unmatched_count"] == 1


def test_plain_text_upload(client, actions, verified):
    me, ann = actions.register(), actions.register()
    verified(ann, "github", "ann-gh")
    response = client.post(
        "/api/v1/me/contacts/import",
        headers=me["headers"],
        data={"network": "github", "file": (io.BytesIO(b"ann-gh\nnobody-here\n"), "list.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert response.json["matched"][0]["handle"] == ann["user"]["handle"]


@pytest.mark.parametrize(
    "body",
    [
        {"network": "twitter", "handles": ["x"] * 5001},
        {"network": "friendster", "handles": ["x"]},
        {"network": "twitter"},
        {"network": "twitter", "handles": "ann"},
    ],
)
def test_bad_json_imports(client, actions, body):
    me = actions.register()
    response = client.post("/api/v1/me/contacts/import", headers=me["headers"], json=body)
    assert response.status_code == 422


def test_bad_uploads(client, actions):
    me = actions.register()
    too_many = "\n".join(f"user{i}" for i in range(5001)).encode()
    for data in (
        {"network": "github", "file": (io.BytesIO(too_many), "big.txt")},
        {"network": "github"},
        {"network": "github", "file": (io.BytesIO(b"\x00\x01\xff"), "bin")},
        {"file": (io.BytesIO(b"ann"), "a.txt")},
    ):
        response = client.post(
            "/api/v1/me/contacts/import",
            headers=me["headers"],
            data=data,
            content_type="multipart/form-data",
        )
        assert response.status_code == 422, data
    assert _contacts(client, me)["items"] == []


def test_import_at_5000_handles(client, actions):
    me = actions.register()
    handles = [f"user_{i}" for i in range(5000)]
    response = client.post(
        "/api/v1/me/contacts/import",
        headers=me["headers"],
        json={"network": "twitter", "handles": handles},
    )
    assert response.status_code == 200
    assert response.json["unmatched_count"] == 5000


def test_mutual_through_any_network_or_the_app(client, actions, verified):
    me, ann = actions.register(), actions.register()
    verified(me, "github", "me-gh")
    verified(ann, "twitter", "ann_tw")
    client.post(
        "/api/v1/me/contacts/import",
        headers=me["headers"],
        json={"network": "twitter", "handles": ["ann_tw"]},
    )
    assert _contacts(client, me)["items"][0]["mutual"] is False
    client.post(
        "/api/v1/me/contacts/import",
        headers=ann["headers"],
        json={"network": "github", "handles": ["me-gh"]},
    )
    contact = _contacts(client, me)["items"][0]
    assert contact["mutual"] is True
    assert contact["met_in_person"] is False and contact["meetings"] == 0
    assert contact["first_met_at"] is None


def test_follow_unfollow_directly(client, actions):
    me, ann = actions.register(), actions.register()
    handle = ann["user"]["handle"]
    response = client.post(
        "/api/v1/me/contacts", headers=me["headers"], json={"handle": handle.upper()}
    )
    assert response.status_code == 201 and response.json["mutual"] is False
    client.post(
        "/api/v1/me/contacts", headers=ann["headers"], json={"handle": me["user"]["handle"]}
    )
    assert _contacts(client, me, mutual="true")["items"][0]["handle"] == handle
    assert client.delete(f"/api/v1/me/contacts/{handle}", headers=me["headers"]).status_code == 204
    assert _contacts(client, me)["items"] == []
    assert _contacts(client, ann)["items"][0]["mutual"] is False
    assert client.delete(f"/api/v1/me/contacts/{handle}", headers=me["headers"]).status_code == 404


def test_follow_errors(client, actions):
    me = actions.register()
    assert (
        client.post(
            "/api/v1/me/contacts", headers=me["headers"], json={"handle": "nobody"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/api/v1/me/contacts", headers=me["headers"], json={"handle": me["user"]["handle"]}
        ).status_code
        == 422
    )


def test_contacts_paginate(client, actions):
    me = actions.register()
    people = [actions.register(f"p{i:02d}_{me['user']['id']}") for i in range(7)]
    for person in people:
        client.post(
            "/api/v1/me/contacts", headers=me["headers"], json={"handle": person["user"]["handle"]}
        )
    seen, cursor = [], None
    while True:
        body = _contacts(client, me, limit=3, **({"cursor": cursor} if cursor else {}))
        seen += [c["handle"] for c in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(p["user"]["handle"] for p in people)
