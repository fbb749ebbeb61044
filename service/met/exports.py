"""The files the networks import, written from a list of verified handles.

Mastodon (read in its source, ``app/models/form/import.rb`` and
``app/services/bulk_import_row_service.rb``): *Import → Lists* takes a CSV whose rows are
``List name,Account address``. A first row of those headers is read as the header
(``List name`` is one of its ``KNOWN_FIRST_HEADERS``); without it the default headers
are assumed, as for Mastodon's own lists export (``app/models/export.rb``). We write the
header: an empty file is refused ("This file is empty"), a header alone imports nothing,
so an export with nobody new in it (``since=``) is still a file Mastodon takes.
``Account address`` is ``user@domain`` (a leading ``@`` is stripped); each row's account
is resolved, followed and added to the list, which is created if missing. UTF-8 without
a byte-order mark (one would become part of the first header). A name starting with
``lists`` makes Mastodon recognise the file as a lists import.

Bluesky, GitHub, Twitter: one handle per line, as IRL's own contact import reads them.
"""

import csv
import io

LIST_NAME = "Met IRL"
MASTODON_HEADERS = ("List name", "Account address")


def mastodon_lists_csv(handles: list[str]) -> str:
    """The header, then rows of ``Met IRL,<user@instance>``, quoted per RFC 4180 where
    needed."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(MASTODON_HEADERS)
    writer.writerows((LIST_NAME, handle) for handle in handles)
    return out.getvalue()


def handle_lines(handles: list[str]) -> str:
    """One handle per line."""
    return "".join(f"{handle}\n" for handle in handles)


def render(network: str, handles: list[str]) -> tuple[str, str, str]:
    """``(body, mimetype, file name)`` of the export for ``network``."""
    if network == "mastodon":
        return mastodon_lists_csv(handles), "text/csv", "lists_met_irl.csv"
    return handle_lines(handles), "text/plain", f"met_irl_{network}.txt"
