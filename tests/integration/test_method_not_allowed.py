"""A 405 says which methods the resource supports (RFC 9110 §15.5.6: ``Allow``), for every
route of the app, in the API's error body."""

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def test_every_405_names_the_methods_the_resource_allows(app, client):
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "<" in rule.rule:
            continue
        allowed = rule.methods - {"HEAD", "OPTIONS"}
        refused = next((m for m in METHODS if m not in allowed), None)
        if refused is None:
            continue
        response = client.open(rule.rule, method=refused)
        if response.status_code != 405:  # another rule of the same path takes the method
            continue
        listed = {m.strip() for m in response.headers["Allow"].split(",")}
        assert allowed <= listed and refused not in listed, (rule.rule, refused, listed)
        assert response.json["code"] == 405 and response.json["message"]
        checked += 1
    assert checked >= 20


def test_a_405_on_a_path_with_an_id_lists_its_methods(client, actions):
    owner = actions.register()
    venue = actions.venue(owner, 40.75, -73.99)
    response = client.put(f"/api/v1/venues/{venue['id']}", headers=owner["headers"], json={})
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["Allow"].split(",")} >= {"GET", "PATCH", "DELETE"}


def test_import_is_no_ones_handle_so_its_path_allows_only_the_import(client, actions):
    """/me/contacts/import is the import; were "import" a handle, the same URL would
    also unfollow that user and its Allow header would list DELETE."""
    me = actions.register()
    taken = client.post(
        "/api/v1/auth/register",
        json={
            "handle": "Import",
            "email": "i@example.com",
            "password": "x" * 12,
            "display_name": "I",
        },
    )
    assert taken.status_code == 422 and "handle" in taken.json["errors"]["json"]
    response = client.delete("/api/v1/me/contacts/import", headers=me["headers"])
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["Allow"].split(",")} == {"OPTIONS", "POST"}
    other = actions.register("importer")
    client.post("/api/v1/me/contacts", headers=me["headers"], json={"handle": "importer"})
    assert client.delete("/api/v1/me/contacts/importer", headers=me["headers"]).status_code == 204
    assert other["user"]["handle"] == "importer"
