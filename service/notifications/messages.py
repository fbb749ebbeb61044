"""What each notification says, and the data the app needs to act on it (pure)."""

from dataclasses import dataclass, field

from service.notifications import kinds


@dataclass(frozen=True)
class Draft:
    """A notification to write when the transaction commits."""

    user_id: int
    kind: str
    message: str
    data: dict = field(default_factory=dict)
    actor_id: int | None = None

    @property
    def urgent(self) -> bool:
        """A safety alert: never held back by quiet hours."""
        return self.kind in kinds.URGENT_KINDS


def distance_text(rounded_m: int, step_m: int) -> str:
    """``about 300 m`` / ``about 1.5 km``; a distance rounded to 0 says how near."""
    if rounded_m <= 0:
        return f"less than {step_m} m"
    if rounded_m < 1000:
        return f"about {rounded_m} m"
    return f"about {rounded_m / 1000:g} km"


def nearby(
    *,
    receiver_id: int,
    sender: dict,
    sender_id: int,
    venue: dict | None,
    location: dict,
    distance_m: int,
    step_m: int,
    checkin_id: int,
) -> Draft:
    """``A is at V, about D from you``; ``venue`` is None when A shares only an
    approximate location, and then the text names no place."""
    name = sender["display_name"]
    where = f"at {venue['name']}" if venue is not None else "nearby"
    return Draft(
        user_id=receiver_id,
        kind=kinds.NEARBY,
        actor_id=sender_id,
        message=f"{name} is {where}, {distance_text(distance_m, step_m)} from you",
        data={
            "user": sender,
            "venue": venue,
            "location": location,
            "distance_m": distance_m,
            "checkin_id": checkin_id,
        },
    )


def meeting(
    *, user_id: int, other: dict, other_id: int, venue: dict, meeting_id: int, first_time: bool
) -> Draft:
    """``You met B at V``, the first time said so."""
    text = f"You met {other['display_name']} at {venue['name']}"
    if first_time:
        text += " — your first time in person!"
    return Draft(
        user_id=user_id,
        kind=kinds.MEETING,
        actor_id=other_id,
        message=text,
        data={"user": other, "venue": venue, "meeting_id": meeting_id, "first_time": first_time},
    )


def badge(*, user_id: int, badge: dict) -> Draft:
    """``You earned the Explorer badge`` (with its level when above 1)."""
    level = f" (level {badge['level']})" if badge["level"] > 1 else ""
    return Draft(
        user_id=user_id,
        kind=kinds.BADGE,
        message=f"You earned the {badge['name']} badge{level}",
        data={"badge": badge},
    )


def mayorship(*, user_id: int, venue: dict, gained: bool) -> Draft:
    """Gained or lost the mayorship of a venue (never naming who took it)."""
    if gained:
        return Draft(
            user_id=user_id,
            kind=kinds.MAYORSHIP_GAINED,
            message=f"You are now the mayor of {venue['name']}",
            data={"venue": venue},
        )
    return Draft(
        user_id=user_id,
        kind=kinds.MAYORSHIP_LOST,
        message=f"You are no longer the mayor of {venue['name']}",
        data={"venue": venue},
    )


def staff_invitation(*, user_id: int, venue: dict, invitation_id: int) -> Draft:
    """The owner of a venue asks me to be listed as its staff (my consent is needed)."""
    return Draft(
        user_id=user_id,
        kind=kinds.STAFF_INVITATION,
        message=f"{venue['name']} invites you to be listed as its staff",
        data={"venue": venue, "invitation_id": invitation_id},
    )
