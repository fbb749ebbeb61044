"""What a meeting plan tells whom (pure). The safety contact learns the plan; the person
met learns only that there is a safety contact, never who; nobody else learns anything."""

from datetime import datetime

from service.common.people import person
from service.notifications import kinds
from service.notifications.messages import Draft


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def watch(*, plan: dict, author: dict, author_id: int, safety_id: int) -> Draft:
    """To the safety contact: who I meet, where, when; please watch."""
    return Draft(
        user_id=safety_id,
        kind=kinds.PLAN_WATCH,
        actor_id=author_id,
        message=(
            f"{author['display_name']} meets {plan['with']['display_name']} at "
            f"{plan['venue']['name']} at {_when(plan['at'])} and asks you to watch: "
            "accept to be told when they arrive, and alerted if they do not check in"
        ),
        data={"plan_id": plan["id"], "user": author, **_details(plan)},
    )


def has_safety_contact(*, plan: dict, author: dict, author_id: int, with_id: int) -> Draft:
    """To the person met: there is a safety contact (never who)."""
    return Draft(
        user_id=with_id,
        kind=kinds.PLAN_SAFETY,
        actor_id=author_id,
        message=(
            f"{author['display_name']} has a safety contact for meeting you at "
            f"{plan['venue']['name']} at {_when(plan['at'])}"
        ),
        data={"user": author, "venue": plan["venue"], "at": plan["at"]},
    )


def watching(*, plan: dict, safety: dict, safety_id: int, author_id: int) -> Draft:
    """To me: my safety contact accepted to watch."""
    return Draft(
        user_id=author_id,
        kind=kinds.PLAN_WATCHING,
        actor_id=safety_id,
        message=f"{safety['display_name']} is watching your meeting at {plan['venue']['name']}",
        data={"plan_id": plan["id"], "user": safety},
    )


def arrived(*, plan: dict, author: dict, author_id: int, safety_id: int, at: datetime) -> Draft:
    """To the watcher: I checked in where the plan said."""
    return Draft(
        user_id=safety_id,
        kind=kinds.PLAN_ARRIVED,
        actor_id=author_id,
        message=f"{author['display_name']} arrived at {plan['venue']['name']}",
        data={"plan_id": plan["id"], "user": author, "arrived_at": at, **_details(plan)},
    )


def all_good(*, plan: dict, author: dict, author_id: int, safety_id: int) -> Draft:
    """To the watcher: I said all is well; the plan is closed."""
    return Draft(
        user_id=safety_id,
        kind=kinds.PLAN_OK,
        actor_id=author_id,
        message=(
            f"{author['display_name']} says all is well after meeting "
            f"{plan['with']['display_name']}"
        ),
        data={"plan_id": plan["id"], "user": author},
    )


def cancelled(*, plan: dict, author: dict, author_id: int, safety_id: int) -> Draft:
    """To the safety contact: nothing to watch any more."""
    return Draft(
        user_id=safety_id,
        kind=kinds.PLAN_CANCELLED,
        actor_id=author_id,
        message=f"{author['display_name']} cancelled the meeting at {plan['venue']['name']}",
        data={"plan_id": plan["id"], "user": author},
    )


def missed(
    *, plan: dict, author: dict, author_id: int, safety_id: int, last_seen: dict | None, alert: int
) -> Draft:
    """To the watcher, urgent: no check-in there and no "all good" by the deadline;
    where the plan was and where I was last seen (as my sharing lets contacts see me)."""
    again = " (second alert)" if alert > 1 else ""
    return Draft(
        user_id=safety_id,
        kind=kinds.PLAN_MISSED,
        actor_id=author_id,
        message=(
            f"{author['display_name']} has not checked in at {plan['venue']['name']} nor said "
            f"all is well since meeting {plan['with']['display_name']} at {_when(plan['at'])}; "
            f"check on them{again}"
        ),
        data={
            "plan_id": plan["id"],
            "user": author,
            "alert": alert,
            "last_seen": last_seen,
            **_details(plan),
        },
    )


def _details(plan: dict) -> dict:
    """Where, when, and whom: the person met by name only (the recipient gets no face of
    someone who may not be their contact)."""
    met = plan["with"]
    return {
        "with": person(met["handle"], met["display_name"]),
        "venue": plan["venue"],
        "at": plan["at"],
        "check_by": plan["check_by"],
    }
