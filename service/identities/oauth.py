"""OAuth 2 (authorization code + PKCE) sign-in with a network, through Authlib.

Three steps, so that nobody can verify someone else's account into their own:
1. ``start``: the claimant (authenticated) gets the provider's URL; the ``state`` is
   stored server-side with the PKCE verifier, bound to the claimant, for 10 minutes.
2. ``receive``: the provider's redirect (a browser, no token) exchanges the code, reads
   the handle from the provider's user endpoint and hands that browser a one-time
   ``completion`` secret — the only place it ever appears.
3. ``claim``: the claimant's app sends ``state`` + ``completion`` with its own token.
   Someone who lures a victim through their own sign-in link holds the ``state`` but
   never the ``completion``; the victim holds the ``completion`` of a ``state`` that is
   not theirs.
"""

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import httpx2
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service import clock
from service.errors import DomainError, NotFound, Unavailable
from service.identities.handles import NAMES, try_normalise
from service.identities.proofs import clean_name, clean_url
from service.models import OAuthState

STATE_TTL = timedelta(minutes=10)


class NotConfigured(DomainError):
    """No client credentials for this provider."""

    status = 422


@dataclass(frozen=True)
class Provider:
    """A network's OAuth 2 endpoints (the real ones by default) and how to read its
    user endpoint's answer into (handle, display name, avatar URL)."""

    authorize_url: str
    token_url: str
    userinfo_url: str
    scope: str
    token_auth: str
    read_user: Callable[[dict], tuple]


def _twitter(body: dict) -> tuple:
    data = body.get("data") or {}
    return data.get("username"), data.get("name"), data.get("profile_image_url")


def _github(body: dict) -> tuple:
    return body.get("login"), body.get("name"), body.get("avatar_url")


def _linkedin(body: dict) -> tuple:
    name = " ".join(filter(None, (body.get("localizedFirstName"), body.get("localizedLastName"))))
    return body.get("vanityName"), name or None, None


def _instagram(body: dict) -> tuple:
    return body.get("username"), None, None


DEFAULTS = {
    "twitter": Provider(
        "https://twitter.com/i/oauth2/authorize",
        "https://api.twitter.com/2/oauth2/token",
        "https://api.twitter.com/2/users/me?user.fields=profile_image_url",
        "users.read tweet.read",
        "client_secret_basic",
        _twitter,
    ),
    "github": Provider(
        "https://github.com/login/oauth/authorize",
        "https://github.com/login/oauth/access_token",
        "https://api.github.com/user",
        "read:user",
        "client_secret_post",
        _github,
    ),
    "linkedin": Provider(
        "https://www.linkedin.com/oauth/v2/authorization",
        "https://www.linkedin.com/oauth/v2/accessToken",
        "https://api.linkedin.com/v2/me?projection=(id,vanityName,localizedFirstName,localizedLastName)",
        "r_basicprofile",
        "client_secret_post",
        _linkedin,
    ),
    "instagram": Provider(
        "https://api.instagram.com/oauth/authorize",
        "https://api.instagram.com/oauth/access_token",
        "https://graph.instagram.com/me?fields=id,username",
        "user_profile",
        "client_secret_post",
        _instagram,
    ),
}
OAUTH_NETWORKS = tuple(DEFAULTS)


@dataclass(frozen=True)
class Client:
    """One configured provider: its credentials and endpoints."""

    network: str
    client_id: str
    client_secret: str
    provider: Provider
    timeout_s: float

    @classmethod
    def from_config(cls, config, network: str) -> "Client":
        """The provider from ``OAUTH_<NETWORK>_*``; 422 when it is not configured."""
        prefix = f"OAUTH_{network.upper()}_"
        client_id = config.get(prefix + "CLIENT_ID", "")
        secret = config.get(prefix + "CLIENT_SECRET", "")
        if network not in DEFAULTS or not client_id or not secret:
            raise NotConfigured(
                f"Signing in with {NAMES[network]} is not configured on this server."
            )
        base = DEFAULTS[network]
        provider = Provider(
            config.get(prefix + "AUTHORIZE_URL") or base.authorize_url,
            config.get(prefix + "TOKEN_URL") or base.token_url,
            config.get(prefix + "USERINFO_URL") or base.userinfo_url,
            config.get(prefix + "SCOPE") or base.scope,
            base.token_auth,
            base.read_user,
        )
        return cls(network, client_id, secret, provider, config["IDENTITY_FETCH_TIMEOUT_S"])

    def session(self, redirect_uri: str) -> OAuth2Client:
        """Authlib's client for one sign-in (PKCE S256, no redirects followed)."""
        return OAuth2Client(
            client_id=self.client_id,
            client_secret=self.client_secret,
            token_endpoint_auth_method=self.provider.token_auth,
            scope=self.provider.scope,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=self.timeout_s,
            follow_redirects=False,
        )


def start(*, db_session: Session, user_id: int, client: Client, redirect_uri: str) -> dict:
    """Open a sign-in for ``user_id``: the provider URL to send the person to."""
    verifier = secrets.token_urlsafe(64)
    with client.session(redirect_uri) as oauth:
        url, state = oauth.create_authorization_url(
            client.provider.authorize_url,
            state=secrets.token_urlsafe(32),
            code_verifier=verifier,
        )
    expires = clock.now() + STATE_TTL
    db_session.execute(delete(OAuthState).where(OAuthState.expires_at < clock.now()))
    db_session.add(
        OAuthState(
            state=state,
            user_id=user_id,
            network=client.network,
            code_verifier=verifier,
            redirect_uri=redirect_uri,
            expires_at=expires,
        )
    )
    db_session.flush()
    return {"network": client.network, "authorize_url": url, "state": state, "expires_at": expires}


def receive(*, db_session: Session, client: Client, args: dict) -> OAuthState:
    """The provider's redirect: exchange the code (once per state), read the handle."""
    row = db_session.scalar(
        select(OAuthState)
        .where(
            OAuthState.state == str(args.get("state") or ""),
            OAuthState.network == client.network,
            OAuthState.expires_at > clock.now(),
        )
        .with_for_update()
    )
    if row is None or row.completion is not None:
        raise DomainError("This sign-in link is unknown, used or expired; start again.")
    if args.get("error") or not args.get("code"):
        db_session.delete(row)
        raise DomainError(f"Signing in with {NAMES[client.network]} was not completed.")
    body = _exchange(client, row, str(args["code"]))
    handle, name, avatar = client.provider.read_user(body if isinstance(body, dict) else {})
    canonical = try_normalise(client.network, handle) if isinstance(handle, str) else None
    if canonical is None:
        raise DomainError(f"{NAMES[client.network]} did not tell us a valid handle.")
    row.handle = canonical
    row.profile_name, row.avatar_url = clean_name(name), clean_url(avatar)
    row.completion = secrets.token_urlsafe(32)
    db_session.flush()
    return row


def signed_in(network: str, row: OAuthState) -> dict:
    """What the callback answers: who signed in, and how to finish verifying."""
    return {
        "network": network,
        "handle": row.handle,
        "state": row.state,
        "completion": row.completion,
        "next": f"POST /api/v1/me/identities/{network}/verify with state and completion",
    }


def _exchange(client: Client, row: OAuthState, code: str) -> dict:
    """Code → token → the provider's user endpoint, as JSON."""
    name = NAMES[client.network]
    try:
        with client.session(row.redirect_uri) as oauth:
            oauth.fetch_token(client.provider.token_url, code=code, code_verifier=row.code_verifier)
            response = oauth.get(client.provider.userinfo_url)
            if response.status_code != 200:
                raise Unavailable(f"{name} did not answer who signed in.", retry_after=30)
            return response.json()
    except OAuthError as exc:
        raise DomainError(f"{name} refused the sign-in ({exc.error}); start again.") from exc
    except (httpx2.HTTPError, ValueError) as exc:
        raise Unavailable(f"{name} cannot be reached right now.", retry_after=30) from exc


def take(*, db_session: Session, user_id: int, network: str, state: str, completion: str):
    """The finished sign-in of ``user_id`` matching ``state`` and ``completion``, consumed;
    404 for anyone else's, an unfinished one, or a wrong secret."""
    row = db_session.scalar(
        select(OAuthState)
        .where(
            OAuthState.state == state,
            OAuthState.user_id == user_id,
            OAuthState.network == network,
            OAuthState.expires_at > clock.now(),
        )
        .with_for_update()
    )
    if (
        row is None
        or row.completion is None
        or not hmac.compare_digest(row.completion.encode(), completion.encode())
    ):
        raise NotFound("No finished sign-in matches; start again.")
    db_session.delete(row)
    db_session.flush()
    return row
