"""A network named in a path (``/me/identities/{network}``): one of those given, and any
other name a 422 that lists them, not a bare 404."""

from flask_smorest import abort
from werkzeug.routing import BaseConverter, Map


class NetworkConverter(BaseConverter):
    """``<network(twitter, mastodon):network>``: like ``any``, but an unknown name is 422."""

    part_isolating = True

    def __init__(self, url_map: Map, *networks: str):
        super().__init__(url_map)
        self.networks = networks

    def to_python(self, value: str) -> str:
        """The network, or a 422 naming the ones that exist."""
        if value not in self.networks:
            abort(
                422,
                message=f"Unknown network {value!r}: use one of {', '.join(self.networks)}.",
                errors={"path": {"network": [f"Must be one of: {', '.join(self.networks)}."]}},
            )
        return value


def parameter_schema(converter: NetworkConverter) -> dict:
    """The path parameter in the OpenAPI document: a string from the list."""
    return {"type": "string", "enum": list(converter.networks)}
