"""A local stand-in for the networks IRL reads, answering in their real wire formats.

- Public profile APIs: Mastodon ``GET /api/v1/accounts/lookup?acct=`` (an Account entity:
  ``username``, ``acct``, ``display_name``, ``note`` in HTML, ``avatar``,
  ``fields[{name, value, verified_at}]``), Bluesky ``app.bsky.actor.getProfile``
  (ProfileViewDetailed: ``did``, ``handle``, ``displayName``, ``description``,
  ``avatar``), GitHub ``GET /users/{login}`` (``login``, ``id``, ``name``, ``bio``,
  ``avatar_url``), each under its own prefix.
- An OAuth 2 authorization server built with Authlib's server side (authorization code,
  PKCE required), one client per network, and each network's user endpoint shape
  (Twitter ``{"data": {"id", "name", "username", "profile_image_url"}}``, GitHub's
  user, LinkedIn ``/v2/me`` with ``vanityName``, Instagram ``{"id", "username"}``).
- Misbehaviour on request (``misbehave``): an answer of 10 MB, a slow answer, a
  redirect to another host.

It runs in a thread on 127.0.0.1 with Werkzeug's server; tests set IRL's configuration
to point at it, as an operator would point IRL at the real networks.
"""

import hmac
import os
import threading
import time
from dataclasses import dataclass, field

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask, Response, jsonify, redirect, request
from werkzeug.serving import make_server

OAUTH_NETWORKS = ("twitter", "github", "linkedin", "instagram")
CALLBACK_PREFIX = "http://localhost/api/v1/identities/"
TEN_MB = 10 * 1024 * 1024


def mastodon_account(username: str, instance: str, note: str = "", fields=()) -> dict:
    """A Mastodon Account entity as ``accounts/lookup`` answers it."""
    return {
        "id": str(abs(hash(username)) % 10**17),
        "username": username,
        "acct": username,
        "display_name": username.title(),
        "locked": False,
        "bot": False,
        "created_at": "2022-11-06T00:00:00.000Z",
        "note": note,
        "url": f"https://{instance}/@{username}",
        "avatar": f"https://files.{instance}/accounts/avatars/{username}.png",
        "avatar_static": f"https://files.{instance}/accounts/avatars/{username}.png",
        "header": f"https://{instance}/headers/original/missing.png",
        "followers_count": 12,
        "following_count": 34,
        "statuses_count": 56,
        "emojis": [],
        "fields": [{"name": name, "value": value, "verified_at": None} for name, value in fields],
    }


def bluesky_profile(handle: str, description: str = "") -> dict:
    """app.bsky.actor.defs#profileViewDetailed."""
    return {
        "did": f"did:plc:{abs(hash(handle)) % 10**20:020d}",
        "handle": handle,
        "displayName": handle.split(".")[0].title(),
        "description": description,
        "avatar": f"https://cdn.bsky.app/img/avatar/plain/{handle}/abc@jpeg",
        "followersCount": 10,
        "followsCount": 20,
        "postsCount": 30,
        "indexedAt": "2024-01-01T00:00:00.000Z",
        "labels": [],
    }


def github_user(login: str, bio: str | None = None) -> dict:
    """GitHub's ``GET /users/{login}`` answer."""
    return {
        "login": login,
        "id": abs(hash(login)) % 10**8,
        "node_id": "MDQ6VXNlcjE=",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{abs(hash(login)) % 10**8}?v=4",
        "html_url": f"https://github.com/{login}",
        "type": "User",
        "site_admin": False,
        "name": login.title(),
        "company": None,
        "blog": "",
        "location": None,
        "email": None,
        "bio": bio,
        "twitter_username": None,
        "public_repos": 3,
        "followers": 1,
        "following": 2,
        "created_at": "2015-01-01T00:00:00Z",
    }


def user_endpoint(network: str, username: str) -> dict:
    """What each provider's user endpoint answers for the signed-in account."""
    if network == "twitter":
        return {
            "data": {
                "id": "1234567890",
                "name": username.title(),
                "username": username,
                "profile_image_url": f"https://pbs.twimg.com/profile_images/1/{username}.jpg",
            }
        }
    if network == "github":
        return github_user(username, bio="")
    if network == "linkedin":
        return {
            "id": "yrZCpj2Z12",
            "vanityName": username,
            "localizedFirstName": username.title(),
            "localizedLastName": "Example",
        }
    return {"id": "17841400000000000", "username": username}


@dataclass
class _Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: tuple
    code_challenge: str | None
    code_challenge_method: str | None
    expires: float = field(default_factory=lambda: time.time() + 300)

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope


class _Client(ClientMixin):
    def __init__(self, network: str):
        self.network = network
        self.client_id = f"irl-{network}"
        self.client_secret = f"secret-{network}"
        self.auth_method = "client_secret_basic" if network == "twitter" else "client_secret_post"

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        return scope or ""

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri == f"{CALLBACK_PREFIX}{self.network}/callback"

    def check_client_secret(self, client_secret):
        return hmac.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return endpoint != "token" or method == self.auth_method

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


class FakeNetworks:
    """The server, its URL, and what the tests put on the networks."""

    def __init__(self):
        self.profiles: dict[tuple[str, str], dict] = {}
        # what a provider's user endpoint answers instead of ``user_endpoint``'s default
        self.signed_in_as: dict[tuple[str, str], dict] = {}
        self.misbehaviour: dict[tuple[str, str], str] = {}
        self.requests: list[tuple[str, str]] = []
        self.codes: dict[str, _Code] = {}
        self.tokens: dict[str, tuple] = {}
        self.clients = {f"irl-{n}": _Client(n) for n in OAUTH_NETWORKS}
        os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # the provider is on http
        self.app = self._build()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    # what tests put on the networks
    def publish(self, network: str, handle: str, text: str = "") -> None:
        """Put ``text`` in the public bio / note / description of ``handle``."""
        if network == "mastodon":
            user, instance = handle.split("@")
            self.profiles[(network, handle)] = mastodon_account(user, instance, f"<p>{text}</p>")
        elif network == "bluesky":
            self.profiles[(network, handle)] = bluesky_profile(handle, text)
        else:
            self.profiles[(network, handle)] = github_user(handle, text)

    def misbehave(self, network: str, handle: str, how: str) -> None:
        """``huge`` (10 MB), ``slow`` (3 s) or ``redirect`` for this account."""
        self.misbehaviour[(network, handle)] = how

    def oauth_config(self) -> dict:
        """IRL's settings for every provider on this server."""
        config = {}
        for network in OAUTH_NETWORKS:
            prefix = f"OAUTH_{network.upper()}_"
            config |= {
                prefix + "CLIENT_ID": f"irl-{network}",
                prefix + "CLIENT_SECRET": f"secret-{network}",
                prefix + "AUTHORIZE_URL": f"{self.url}/oauth/{network}/authorize",
                prefix + "TOKEN_URL": f"{self.url}/oauth/{network}/token",
                prefix + "USERINFO_URL": f"{self.url}/oauth/{network}/userinfo",
            }
        return config

    def profile_config(self) -> dict:
        """IRL's settings for the three public profile APIs on this server."""
        return {
            "MASTODON_URL_TEMPLATE": f"{self.url}/mastodon/{{instance}}",
            "BLUESKY_API_URL": f"{self.url}/bluesky",
            "GITHUB_API_URL": f"{self.url}/github",
        }

    def close(self) -> None:
        self.server.shutdown()

    # the server
    def _answer(self, network: str, handle: str):
        self.requests.append((network, handle))
        how = self.misbehaviour.get((network, handle))
        if how == "huge":
            chunk = b" " * 65536
            return Response(
                (chunk for _ in range(TEN_MB // len(chunk))), mimetype="application/json"
            )
        if how == "slow":
            time.sleep(3)
        if how == "redirect":
            return redirect("http://elsewhere.invalid/profile", code=302)
        profile = self.profiles.get((network, handle))
        if profile is None:
            return jsonify({"error": "Record not found"}), 404
        return jsonify(profile)

    def _build(self) -> Flask:
        app = Flask("fake_networks")
        networks = self

        @app.get("/mastodon/<instance>/api/v1/accounts/lookup")
        def mastodon_lookup(instance):
            return networks._answer("mastodon", f"{request.args.get('acct', '')}@{instance}")

        @app.get("/bluesky/xrpc/app.bsky.actor.getProfile")
        def bluesky_get_profile():
            return networks._answer("bluesky", request.args.get("actor", ""))

        @app.get("/github/users/<login>")
        def github_users(login):
            return networks._answer("github", login)

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_basic", "client_secret_post")

            def save_authorization_code(self, code, req):
                networks.codes[code] = _Code(
                    code,
                    req.client.client_id,
                    req.payload.redirect_uri,
                    req.scope,
                    req.user,
                    req.payload.data.get("code_challenge"),
                    req.payload.data.get("code_challenge_method"),
                )

            def query_authorization_code(self, code, client):
                found = networks.codes.get(code)
                if found and found.client_id == client.client_id and found.expires > time.time():
                    return found
                return None

            def delete_authorization_code(self, authorization_code):
                networks.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code):
                return authorization_code.user

        def save_token(token, req):
            networks.tokens[token["access_token"]] = req.user

        server = AuthorizationServer(app, query_client=networks.clients.get, save_token=save_token)
        server.register_grant(CodeGrant, [CodeChallenge(required=True)])

        @app.route("/oauth/<network>/authorize", methods=["GET", "POST"])
        def authorize(network):
            username = request.form.get("username")
            user = (network, username) if username and "deny" not in request.form else None
            grant = server.get_consent_grant(end_user=user)
            if request.method == "GET":
                return "<form method=post><input name=username><button>Sign in</button></form>"
            return server.create_authorization_response(grant_user=user, grant=grant)

        @app.post("/oauth/<network>/token")
        def token(network):
            return server.create_token_response()

        @app.get("/oauth/<network>/userinfo")
        def userinfo(network):
            bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
            user = networks.tokens.get(bearer)
            if user is None or user[0] != network:
                return jsonify({"error": "invalid_token"}), 401
            return jsonify(networks.signed_in_as.get(user) or user_endpoint(network, user[1]))

        return app
