"""flask-smorest's Api with a human-readable ``message`` on every error."""

from flask_smorest import Api

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
    """Api whose error bodies always carry ``message``."""

    def handle_http_exception(self, error):
        """Add a default message when the error has none (validation, bad JSON)."""
        payload, status, headers = super().handle_http_exception(error)
        if "message" not in payload:
            payload["message"] = DEFAULT_MESSAGES.get(status, error.description or error.name)
        return payload, status, headers
