"""An organiser's conversion figures with small groups hidden (pure).

No figure, nor the difference between two figures of the answer, describes fewer than
``THRESHOLD`` distinct people (PRODUCT.md, Trust). Every figure here is a set of people
(meetings: the people who met), so each is hidden when it holds 1..4 of them; the sets
that add up are checked as sums: ``going = going_and_came + going_but_absent`` and
``checked_in = going_and_came + came_without_rsvp + (came after answering maybe or
no)``, the last part never shown; where the hidden parts of a shown whole add up to
1..4 people, the smallest shown part is hidden too. ``meetings - new_pairs`` are the
repeat meetings, so ``new_pairs`` is hidden when their people are 1..4.
"""

from dataclasses import dataclass

THRESHOLD = 5
SUMS = (
    ("going", ("going_and_came", "going_but_absent")),
    ("checked_in", ("going_and_came", "came_without_rsvp", "came_otherwise")),
)
NEVER_SHOWN = frozenset({"came_otherwise"})


@dataclass(frozen=True)
class People:
    """The sets behind the figures (user ids; never shown)."""

    rsvps: dict  # status -> set of user ids
    came: set
    met: set  # everyone in a meeting at the event
    met_first: set  # everyone in a first-time meeting
    met_again: set  # everyone in a repeat meeting


def _small(people: int) -> bool:
    return 0 < people < THRESHOLD


def _sizes(people: People) -> dict:
    going = people.rsvps["going"]
    answered = set().union(*people.rsvps.values())
    return {
        "going": len(going),
        "maybe": len(people.rsvps["maybe"]),
        "not_going": len(people.rsvps["not_going"]),
        "checked_in": len(people.came),
        "going_and_came": len(people.came & going),
        "going_but_absent": len(going - people.came),
        "came_without_rsvp": len(people.came - answered),
        "came_otherwise": len(people.came & (answered - going)),
    }


def hidden_figures(people: People) -> set:
    """The names of the figures to hide."""
    sizes = _sizes(people)
    hidden = {name for name, size in sizes.items() if _small(size)} | NEVER_SHOWN
    changed = True
    while changed:
        changed = False
        for whole, parts in SUMS:
            rest = sum(sizes[part] for part in parts if part in hidden)
            shown = [part for part in parts if part not in hidden and sizes[part]]
            if whole not in hidden and _small(rest) and shown:
                hidden.add(min(shown, key=lambda part: (sizes[part], part)))
                changed = True
    if _small(len(people.met)):
        hidden.add("meetings")
    if _small(len(people.met_first)) or (
        "meetings" not in hidden and _small(len(people.met_again))
    ):
        hidden.add("new_pairs")
    return hidden - NEVER_SHOWN


def view(people: People, meetings: int, new_pairs: int) -> dict:
    """The organiser's answer: a hidden figure is null and named in ``suppressed_figures``."""
    sizes = _sizes(people)
    hidden = hidden_figures(people)
    shown = lambda name, value: None if name in hidden else value  # noqa: E731
    names = [*("rsvps." + s for s in ("going", "maybe", "not_going"))]
    names += ["checked_in", "going_and_came", "going_but_absent", "came_without_rsvp"]
    names += ["meetings", "new_pairs"]
    return {
        "rsvps": {s: shown(s, sizes[s]) for s in ("going", "maybe", "not_going")},
        **{
            name: shown(name, sizes[name])
            for name in ("checked_in", "going_and_came", "going_but_absent", "came_without_rsvp")
        },
        "meetings": shown("meetings", meetings),
        "new_pairs": shown("new_pairs", new_pairs),
        "suppressed": bool(hidden),
        "suppressed_figures": [n for n in names if n.removeprefix("rsvps.") in hidden],
        "suppression_threshold": THRESHOLD,
    }
