"""Offset-cursor pages: ``limit`` (≤ 100) items from where the cursor says, and the
opaque ``next_cursor`` of the next page (null at the end).

Keyset cursors (``cursor.decode_keyset`` and kin) are for lists that grow while read;
an offset is for a search answered anew each time (nearest first, a ranking) and for a
short list read whole.
"""

from dataclasses import dataclass

from service.common import cursor

MAX_OFFSET = 10_000  # paging deeper than this is a scan, not a search


@dataclass(frozen=True)
class Offset:
    """Where a page starts and how many items it holds."""

    start: int
    limit: int

    @classmethod
    def of(cls, args: dict, most: int = MAX_OFFSET) -> "Offset":
        """The page a query's ``cursor`` and ``limit`` ask for (the first without a
        cursor); 422 for a cursor past ``most``."""
        (start,) = cursor.decode(args.get("cursor"), int) or (0,)
        cursor.check_range(start, 0, most)
        return cls(start, args["limit"])

    @property
    def end(self) -> int:
        """The offset of the next page."""
        return self.start + self.limit

    def answer(self, items: list, more: bool | None = None) -> dict:
        """``{"items", "next_cursor"}``; by default a full page may have more after it."""
        more = len(items) == self.limit if more is None else more
        return {"items": items, "next_cursor": cursor.encode(self.end) if more else None}


def sliced(items: list, args: dict, most: int | None = None) -> dict:
    """A page of a bounded, ordered list read whole; 422 for a cursor past ``most`` (by
    default the list's end)."""
    page = Offset.of(args, len(items) if most is None else most)
    return page.answer(items[page.start : page.end], more=page.end < len(items))
