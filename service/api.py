"""flask-smorest's Api with a human-readable ``message`` on every error."""

from flask import current_app
from flask_smorest import Api

from service.common.networks import NetworkConverter, parameter_schema

DEFAULT_MESSAGES = {
    400: "The request body is not valid JSON.",
    401: "Authentication is required.",
    404: "Not found.",
    405: "This method is not allowed here.",
    413: "The request body is too large.",
    415: "Send the body as application/json.",
    422: "Some fields are invalid; see errors for what to fix.",
    500: "Internal server error.",
}


class IrlApi(Api):
    """Api whose error bodies always carry ``message``; paths may name a ``network``."""

    def init_app(self, app, *, spec_kwargs=None):
        """Bind to the app, with the ``network`` path converter (before any route)."""
        app.url_map.converters["network"] = NetworkConverter
        super().init_app(app, spec_kwargs=spec_kwargs)
        self.register_converter(NetworkConverter, parameter_schema)

    def handle_http_exception(self, error):
        """Add a default message when the error has none (validation, bad JSON), and the
        ``Allow`` header to a 405."""
        payload, status, headers = super().handle_http_exception(error)
        if status == 413:
            payload["message"] = too_large_message(current_app.config.get("MAX_CONTENT_LENGTH"))
        if "message" not in payload:
            payload["message"] = DEFAULT_MESSAGES.get(status, error.description or error.name)
        if status == 405 and getattr(error, "valid_methods", None):
            # RFC 9110 §15.5.6: a 405 names the methods the resource does support
            headers = {**(headers or {}), "Allow": ", ".join(sorted(error.valid_methods))}
        return payload, status, headers


def too_large_message(limit: int | None) -> str:
    """The 413's message, naming the limit (``MAX_CONTENT_LENGTH``) in MiB or KiB."""
    if not limit:
        return DEFAULT_MESSAGES[413]
    if limit % (1024 * 1024) == 0:
        size = f"{limit // (1024 * 1024)} MiB"
    elif limit % 1024 == 0:
        size = f"{limit // 1024} KiB"
    else:
        size = f"{limit} bytes"
    return f"The request body is larger than the {size} limit; send less at a time."
