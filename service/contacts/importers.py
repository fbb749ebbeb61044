"""Read the follow lists people actually have: Mastodon's CSV export or plain text."""

import csv
import io

from service.errors import DomainError

MAX_HANDLES = 5000
MASTODON_HEADER = "account address"


def parse_upload(data: bytes) -> list[str]:
    """Handles from an uploaded file: Mastodon ``following_accounts.csv`` or one per line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DomainError("The file is not UTF-8 text.") from exc
    if "\x00" in text:
        raise DomainError("The file is not a text file.")
    lines = text.splitlines()
    first = lines[0].strip().lower() if lines else ""
    if first.startswith(MASTODON_HEADER):
        handles = _mastodon_csv(text)
    else:
        handles = [line.strip() for line in lines]
    handles = [h for h in handles if h and not h.startswith("#")]
    if len(handles) > MAX_HANDLES:
        raise DomainError(
            f"At most {MAX_HANDLES} handles per import; this file has "
            f"{len(handles)}. Split it and import the parts."
        )
    return handles


def _mastodon_csv(text: str) -> list[str]:
    """The first column (``Account address``) of Mastodon's following export."""
    reader = csv.reader(io.StringIO(text))
    next(reader, None)
    return [row[0].strip() for row in reader if row]
