"""OpenAPI links: which answer names the object the next operations act on.

A client generator and a stateful fuzzer both read them: after ``POST /venues`` the new
venue's ``id`` is the ``venue_id`` of every operation under ``/venues/{venue_id}``. One
row per object that an operation creates; every operation under its path is linked.
"""

from dataclasses import dataclass

from flask_smorest import Api

METHODS = ("get", "put", "post", "patch", "delete")


@dataclass(frozen=True)
class Creates:
    """``method path`` makes an object whose ``parameter`` is at ``value`` (a runtime
    expression) and that every operation under one of ``under`` acts on."""

    method: str
    path: str
    parameter: str
    value: str
    under: tuple[str, ...]


CREATES = (
    Creates(
        "post",
        "/api/v1/auth/register",
        "handle",
        "$response.body#/user/handle",
        ("/api/v1/users/{handle}",),
    ),
    Creates(
        "put",
        "/api/v1/me/identities/{network}",
        "network",
        "$request.path.network",
        ("/api/v1/me/identities/{network}",),
    ),
    Creates(
        "post",
        "/api/v1/me/contacts",
        "handle",
        "$request.body#/handle",
        ("/api/v1/me/contacts/{handle}",),
    ),
    Creates(
        "post", "/api/v1/venues", "venue_id", "$response.body#/id", ("/api/v1/venues/{venue_id}",)
    ),
    Creates(
        "post",
        "/api/v1/checkins",
        "checkin_id",
        "$response.body#/checkin/id",
        ("/api/v1/checkins/{checkin_id}",),
    ),
    Creates(
        "post", "/api/v1/events", "event_id", "$response.body#/id", ("/api/v1/events/{event_id}",)
    ),
    Creates(
        "post",
        "/api/v1/me/plans",
        "plan_id",
        "$response.body#/id",
        ("/api/v1/me/plans/{plan_id}", "/api/v1/me/watching/{plan_id}"),
    ),
    Creates(
        "post",
        "/api/v1/me/devices",
        "device_id",
        "$response.body#/id",
        ("/api/v1/me/devices/{device_id}",),
    ),
    Creates(
        "post",
        "/api/v1/venues/{venue_id}/claim",
        "claim_id",
        "$response.body#/id",
        ("/api/v1/admin/claims/{claim_id}",),
    ),
    Creates(
        "put",
        "/api/v1/venues/{venue_id}/staff/{handle}",
        "venue_id",
        "$request.path.venue_id",
        ("/api/v1/venues/{venue_id}/staff",),
    ),
)


def _pointer(path: str, method: str) -> str:
    """A JSON pointer to an operation of this document (RFC 6901 escaping)."""
    return "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method


def _name(method: str, path: str) -> str:
    words = [part.strip("{}").replace(".", "_") for part in path.split("/")[3:]]
    return method.upper() + "_" + "_".join(w for w in words if w)


def _targets(paths: dict, creates: Creates):
    for path, operations in paths.items():
        if any(
            path == root or path.startswith(root + "/") or path.startswith(root + ".")
            for root in creates.under
        ):
            for method in operations:
                if method in METHODS and (path, method) != (creates.path, creates.method):
                    yield path, method


def declare_links(api: Api) -> None:
    """Add a link from every success answer of each creating operation to the
    operations on what it created."""
    paths = api.spec._paths
    for creates in CREATES:
        source = paths.get(creates.path, {}).get(creates.method)
        if source is None:
            raise LookupError(f"{creates.method.upper()} {creates.path} is not in the document")
        links = {
            _name(method, path): {
                "operationRef": _pointer(path, method),
                "parameters": {creates.parameter: creates.value},
            }
            for path, method in _targets(paths, creates)
        }
        for status, response in source.get("responses", {}).items():
            if str(status).startswith("2"):
                response.setdefault("links", {}).update(links)
