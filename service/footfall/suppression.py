"""Which figures of a footfall report stay hidden (pure).

No figure, nor the difference between two figures of one answer, may describe fewer
than ``THRESHOLD`` distinct people (PRODUCT.md, Trust). First each row (the totals, each
bucket) hides what is small in itself: everything when it has fewer visitors, new and
returning visitors together when either is 1..4 (each is the other's difference from
the visitors), meetings when 1..4 people met. Then complementary suppression hides a
second figure wherever a difference would give a hidden one back:

- series against the totals: check-ins and meetings add up over the buckets, so the
  hidden buckets together must hold no one or at least five people (a hidden bucket of
  five or more proves it); new visitors add up exactly; distinct and returning visitors
  do not, but the totals less the shown buckets must not come to 1..4 either;
- the weekday x hour grid against the total check-ins, against the buckets of the same
  weekday (day and hour buckets), and each cell against its own hours (hour buckets).

Each step only hides more, so it ends; the smallest shown figure is the one hidden.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

THRESHOLD = 5
ROW = ("checkins", "visitors", "new_visitors", "returning_visitors", "meetings")
SPLIT = ("new_visitors", "returning_visitors")


def small(people: int) -> bool:
    """Describes someone, but fewer than ``THRESHOLD`` people."""
    return 0 < people < THRESHOLD


def row_hidden(counts) -> set:
    """What a row (totals or bucket) hides on its own."""
    if counts.visitors < THRESHOLD:
        return set(ROW)
    hidden = set()
    if small(counts.new) or small(counts.visitors - counts.new):
        hidden.update(SPLIT)
    if small(len(counts.met)):
        hidden.add("meetings")
    return hidden


def _smallest(rows: list, size):
    """The key of the row with the smallest ``size`` (``None`` if there is none)."""
    if not rows:
        return None
    return min(rows, key=lambda row: (size(row[1]), row[1].checkins, row[0]))[0]


def _series_step(total, hidden: dict, buckets: dict) -> bool:
    """Hide one more bucket figure if a difference with the totals needs it."""
    total_hidden = row_hidden(total)

    def shown(figure: str) -> list:
        return [(k, c) for k, c in buckets.items() if figure not in hidden[k]]

    whole = [c for k, c in buckets.items() if "visitors" in hidden[k]]
    people = [c.visitors for c in whole]
    rest = total.visitors - sum(c.visitors for _, c in shown("visitors"))
    lower = max([*people, sum(c.new for c in whole), rest], default=0)
    if (any(people) and lower < THRESHOLD) or small(rest):
        key = _smallest(shown("visitors"), lambda c: c.visitors)
        if key is not None:
            hidden[key].update(ROW)
            return True
    if not total_hidden & set(SPLIT):
        rows = shown("new_visitors")
        new_rest = total.new - sum(c.new for _, c in rows)
        returning_rest = total.visitors - total.new - sum(c.visitors - c.new for _, c in rows)
        key = None
        if small(new_rest):
            key = _smallest([r for r in rows if r[1].new], lambda c: c.new)
        elif small(returning_rest):
            key = _smallest([r for r in rows if r[1].visitors > r[1].new], lambda c: c.visitors)
        if key is not None:
            hidden[key].update(SPLIT)
            return True
    if "meetings" not in total_hidden:
        met = set().union(*(c.met for k, c in buckets.items() if "meetings" in hidden[k]))
        if small(len(met)):
            rows = [r for r in shown("meetings") if r[1].meetings]
            key = _smallest(rows, lambda c: c.meetings)
            if key is not None:
                hidden[key].add("meetings")
                return True
    return False


def series_hidden(total, buckets: dict) -> dict:
    """Hidden figures of each bucket (by key), complementary suppression included."""
    if "visitors" in row_hidden(total):
        return {key: set(ROW) for key in buckets}
    hidden = {key: row_hidden(counts) for key, counts in buckets.items()}
    if row_hidden(total) & set(SPLIT):
        # new visitors add up exactly across buckets: shown in every bucket, they would
        # give back the hidden total (and returning = visitors - new)
        for key in buckets:
            hidden[key].update(SPLIT)
    while _series_step(total, hidden, buckets):
        pass
    return hidden


def _weekday_hour(key, zone: str) -> tuple[int, int | None]:
    if isinstance(key, datetime):
        local = key.astimezone(ZoneInfo(zone))
        return local.weekday(), local.hour
    assert isinstance(key, date)
    return key.weekday(), None


def _unsafe(sides: list[list[tuple[int, bool]]]) -> bool:
    """Whether an equation between the sums of ``sides`` (each a list of (people, hidden)
    figures) gives back a sum of hidden figures describing 1..4 people."""
    figures = [figure for side in sides for figure in side if figure[0]]
    hidden = [people for people, is_hidden in figures if is_hidden]
    if not hidden or len(hidden) == len(figures):
        return False
    lower = max(hidden)
    for side, other in ((sides[0], sides[1]), (sides[1], sides[0])):
        if all(is_hidden for people, is_hidden in side if people):
            lower = max([lower, *(people for people, _ in other)])
    return lower < THRESHOLD


def grid_hidden(total, total_hidden: set, buckets: dict, hidden: dict, cells: dict, span):
    """The weekday x hour cells hidden, complementary suppression included."""
    people = {cell: min(counts.visitors, THRESHOLD) for cell, counts in cells.items()}
    shut = {cell for cell, n in people.items() if n < THRESHOLD}
    placed = {}
    if span.granularity != "week":
        for key, counts in buckets.items():
            if counts.visitors:
                placed[key] = (*_weekday_hour(key, span.zone), counts.visitors)

    def figure(cell):
        return people[cell], cell in shut

    def bucket(key):
        return placed[key][2], "checkins" in hidden[key]

    def shut_smallest(candidates) -> bool:
        shown = [cell for cell in candidates if cell not in shut]
        if not shown:
            return False
        shut.add(min(shown, key=lambda cell: (cells[cell].checkins, cell)))
        return True

    changed = True
    while changed:
        changed = False
        if "checkins" not in total_hidden and _unsafe(
            [[(total.visitors, False)], [figure(cell) for cell in cells]]
        ):
            changed = shut_smallest(cells)
        for weekday in range(7):
            row = [cell for cell in cells if cell[0] == weekday]
            days = [key for key, place in placed.items() if place[0] == weekday]
            if days and _unsafe([[bucket(k) for k in days], [figure(c) for c in row]]):
                changed = shut_smallest(row) or changed
        if span.granularity == "hour":
            for cell in cells:
                hours = [k for k, place in placed.items() if place[:2] == cell]
                if cell not in shut and _unsafe([[figure(cell)], [bucket(k) for k in hours]]):
                    shut.add(cell)
                    changed = True
    return shut
