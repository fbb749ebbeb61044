"""Offset-cursor pages: ``limit`` (≤ 100) items from where the cursor says, and the
opaque ``next_cursor`` of the next page (null at the end).

Keyset cursors (the other kinds of ``cursor.Cursor``) are for lists that grow while read;
an offset is for a search answered anew each time (nearest first, a ranking) and for a
short list read whole.
"""

from dataclasses import dataclass

from service.common import cursor


@dataclass(frozen=True)
class Offset:
    """Where a page starts and how many items it holds."""

    start: int
    limit: int

    @classmethod
    def of(cls, args: dict) -> "Offset":
        """The page a query's offset ``cursor`` and ``limit`` ask for (the first without
        a cursor)."""
        return cls(args.get("cursor") or 0, args["limit"])

    @property
    def end(self) -> int:
        """The offset of the next page."""
        return self.start + self.limit

    def answer(self, items: list, more: bool | None = None) -> dict:
        """``{"items", "next_cursor"}``; by default a full page may have more after it."""
        more = len(items) == self.limit if more is None else more
        return {"items": items, "next_cursor": cursor.encode(self.end) if more else None}


def sliced(items: list, args: dict) -> dict:
    """A page of a bounded, ordered list read whole (empty past its end)."""
    page = Offset.of(args)
    return page.answer(items[page.start : page.end], more=page.end < len(items))
