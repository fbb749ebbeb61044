"""How a person is shown wherever the API names one."""


def person(handle: str, display_name: str) -> dict:
    """``{handle, display_name}``: who, never where. ``identities.faces.show`` adds the
    ``identities`` a contact may see; answers that say more about the person (points,
    ``mutual``...) add their keys after these two."""
    return {"handle": handle, "display_name": display_name}
