"""Text PostgreSQL can store."""


def unstorable(value) -> bool:
    """True for text PostgreSQL cannot store: NUL bytes or lone UTF-16 surrogates."""
    if isinstance(value, str):
        if "\x00" in value:
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(unstorable(k) or unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(unstorable(item) for item in value)
    return False
