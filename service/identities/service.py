"""Claim, verify and unlink online identities.

A claim counts for nothing until it is verified. Verifying a handle makes it this
user's alone: every other claim of it is dropped (with the follows adopted through it)
and the imports waiting for it become follows.
"""

import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from service import clock
from service.contacts import pairs
from service.errors import Conflict, DomainError, NotFound
from service.identities import oauth, proofs, verified
from service.identities.fetch import FetchLimits
from service.identities.handles import NAMES, normalise
from service.models import Identity, PendingFollow, User

CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
WHERE_TO_PUT = {
    "mastodon": "in your Mastodon bio or in one of your profile fields (Edit profile)",
    "bluesky": "in your Bluesky profile description (Edit profile)",
    "github": "in your GitHub bio (Settings → Public profile → Bio)",
}


@dataclass(frozen=True)
class Proven:
    """A handle proven to be the user's, with what the network shows of it."""

    handle: str
    display_name: str | None
    avatar_url: str | None


def new_code() -> str:
    """A one-time proof code, short enough for a bio (80 bits)."""
    return "irl-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(16))


def claim(*, db_session: Session, user: User, network: str, handle: str) -> tuple[Identity, bool]:
    """Claim my handle on a network (unverified until proven); 409 if someone else has
    verified it. Claiming the same handle again keeps its state and its code."""
    canonical = normalise(network, handle)
    if verified.owner(db_session, network, canonical) not in (None, user.id):
        raise Conflict(f"That {NAMES[network]} handle is verified by another account.")
    identity = db_session.get(Identity, (user.id, network))
    created = identity is None
    if identity is not None and identity.handle == canonical:
        return identity, False
    if identity is not None:
        _let_go(db_session, identity)
    identity = Identity(user_id=user.id, network=network, handle=canonical)
    if network in proofs.PROOF_NETWORKS:
        identity.proof_code = new_code()
    db_session.add(identity)
    db_session.flush()
    return identity, created


def _let_go(db_session: Session, identity: Identity) -> None:
    """Drop my claim of a handle (replaced by another), verified or not, and the follows
    adopted through it."""
    verified.lock(db_session, identity.network, identity.handle)
    verified.release(db_session, identity.user_id, identity.network, identity.handle)
    pairs.withdraw_via(db_session, identity.user_id, identity.network)
    db_session.delete(identity)
    db_session.flush()


def verify(
    *,
    db_session: Session,
    user: User,
    network: str,
    endpoints: proofs.Endpoints,
    limits: FetchLimits,
    state: str = "",
    completion: str = "",
) -> Identity:
    """Verify my claim: a finished OAuth sign-in when ``state`` or ``completion`` is
    given, else the code in my public profile."""
    if state or completion:
        return verify_by_oauth(
            db_session=db_session, user=user, network=network, state=state, completion=completion
        )
    return verify_by_proof(
        db_session=db_session, user=user, network=network, endpoints=endpoints, limits=limits
    )


def verify_by_proof(
    *,
    db_session: Session,
    user: User,
    network: str,
    endpoints: proofs.Endpoints,
    limits: FetchLimits,
) -> Identity:
    """Read my claimed profile; verified when my code is in what it shows. Verifying a
    verified identity again reads its public name and picture afresh."""
    identity = _mine(db_session, user, network)
    if network not in proofs.PROOF_NETWORKS:
        if identity.verified:  # refreshed by signing in again
            return identity
        raise DomainError(
            f"{NAMES[network]} is verified by signing in: "
            f"GET /api/v1/me/identities/{network}/authorize."
        )
    profile = proofs.read_profile(network, identity.handle, endpoints=endpoints, limits=limits)
    if identity.verified:
        _keep_face(identity, profile.display_name, profile.avatar_url)
        db_session.flush()
        return identity
    if identity.proof_code.lower() not in profile.text.lower():
        raise DomainError(
            f"The code {identity.proof_code} is not in the public profile of "
            f"{identity.handle} on {NAMES[network]} yet. Add it, save, and try again."
        )
    return _mark_verified(
        db_session, user, network, Proven(profile.handle, profile.display_name, profile.avatar_url)
    )


def verify_by_oauth(
    *, db_session: Session, user: User, network: str, state: str, completion: str
) -> Identity:
    """Finish my OAuth sign-in: the handle the provider named becomes my verified one."""
    signed_in = oauth.take(
        db_session=db_session, user_id=user.id, network=network, state=state, completion=completion
    )
    if verified.owner(db_session, network, signed_in.handle) not in (None, user.id):
        raise Conflict(f"That {NAMES[network]} account is verified by another IRL account.")
    identity = db_session.get(Identity, (user.id, network))
    if identity is not None and identity.handle != signed_in.handle:
        # both handles' locks at once, in order: two people swapping handles never deadlock
        verified.lock(db_session, network, identity.handle, signed_in.handle)
        _let_go(db_session, identity)
        identity = None
    if identity is None:
        db_session.add(Identity(user_id=user.id, network=network, handle=signed_in.handle))
        db_session.flush()
    proven = Proven(signed_in.handle, signed_in.profile_name, signed_in.avatar_url)
    return _mark_verified(db_session, user, network, proven)


def _mark_verified(db_session: Session, user: User, network: str, proven: Proven) -> Identity:
    """Make the handle mine alone, then adopt the imports that wait for it."""
    identity = db_session.get(Identity, (user.id, network))
    verified.lock(db_session, network, identity.handle)
    if not verified.take(db_session, user.id, network, identity.handle):
        raise Conflict(f"That {NAMES[network]} handle was just verified by another account.")
    identity.verified_at = clock.now()
    identity.proof_code = None
    _keep_face(identity, proven.display_name, proven.avatar_url)
    try:
        with db_session.begin_nested():
            db_session.flush()
    except (IntegrityError, StaleDataError) as exc:  # someone else won the handle meanwhile
        raise Conflict(
            f"That {NAMES[network]} handle was just verified by another account."
        ) from exc
    _drop_other_claims(db_session, user.id, network, proven.handle)
    _adopt_pending(db_session, user.id, network, proven.handle)
    return identity


def _keep_face(identity: Identity, display_name: str | None, avatar_url: str | None) -> None:
    """What the network shows of the account now; cleaned again at this one place that
    stores it, so no path can keep a hostile name or picture URL."""
    identity.profile_name = proofs.clean_name(display_name)
    identity.avatar_url = proofs.clean_url(avatar_url)
    identity.profile_fetched_at = clock.now()


def _drop_other_claims(db_session: Session, user_id: int, network: str, handle: str) -> None:
    """Every other claim of the handle goes, and the follows adopted through it."""
    losers = sorted(
        db_session.scalars(
            delete(Identity)
            .where(
                Identity.network == network,
                Identity.handle == handle,
                Identity.user_id != user_id,
            )
            .returning(Identity.user_id)
        )
    )
    for loser in losers:
        pairs.withdraw_via(db_session, loser, network)


def _adopt_pending(db_session: Session, user_id: int, network: str, handle: str) -> None:
    """People who imported this handle before it was verified now follow me."""
    followers = list(
        db_session.scalars(
            delete(PendingFollow)
            .where(PendingFollow.network == network, PendingFollow.handle == handle)
            .returning(PendingFollow.follower_id)
        )
    )
    for follower in sorted(followers):
        pairs.follow(db_session, follower, [user_id], via=network)


def _mine(db_session: Session, user: User, network: str) -> Identity:
    identity = db_session.get(Identity, (user.id, network))
    if identity is None:
        raise NotFound(f"No {NAMES[network]} handle is claimed; PUT it first.")
    return identity


def instructions(identity: Identity) -> str | None:
    """What the claimant does next to verify, in words an app can show."""
    if identity.verified:
        return None
    network, name = identity.network, NAMES[identity.network]
    sign_in = (
        f"sign in with {name}: GET /api/v1/me/identities/{network}/authorize, open its "
        "authorize_url, then POST the state and completion the callback answers to "
        f"/api/v1/me/identities/{network}/verify."
    )
    if network not in proofs.PROOF_NETWORKS:
        return "To verify, " + sign_in
    steps = (
        f"Put {identity.proof_code} {WHERE_TO_PUT[network]}, save, then "
        f"POST /api/v1/me/identities/{network}/verify. You can remove it afterwards."
    )
    return steps + (" Or " + sign_in if network in oauth.OAUTH_NETWORKS else "")


def view(identity: Identity) -> dict:
    """An identity as its claimant sees it."""
    return {
        "network": identity.network,
        "handle": identity.handle,
        "verified": identity.verified,
        "verified_at": identity.verified_at,
        "proof_code": None if identity.verified else identity.proof_code,
        "proof_instructions": instructions(identity),
        "profile_name": identity.profile_name,
        "avatar_url": identity.avatar_url,
        "created_at": identity.created_at,
    }


def list_mine(*, db_session: Session, user: User) -> list[Identity]:
    """My identities, by network."""
    return list(
        db_session.scalars(
            select(Identity).where(Identity.user_id == user.id).order_by(Identity.network)
        )
    )


def unlink(*, db_session: Session, user: User, network: str) -> None:
    """Remove my identity on a network and withdraw the follows adopted through it
    (follows made in the app stay); 404 if none."""
    mine = (Identity.user_id == user.id, Identity.network == network)
    handle = db_session.scalar(select(Identity.handle).where(*mine))
    if handle is not None:
        verified.lock(db_session, network, handle)
        handle = db_session.scalar(delete(Identity).where(*mine).returning(Identity.handle))
    if handle is None:
        raise NotFound(f"No {NAMES[network]} identity is linked.")
    verified.release(db_session, user.id, network, handle)
    pairs.withdraw_via(db_session, user.id, network)
