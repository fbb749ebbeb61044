"""OpenAPI helpers shared by blueprints."""

from service.auth.tokens import login_required

BEARER = [{"bearerAuth": []}]


def authenticated(blp):
    """Decorator factory: require a bearer token and document it (security + 401)."""

    def decorator(view):
        view = login_required(view)
        view = blp.alt_response(
            401, response="DEFAULT_ERROR", description="Missing, invalid or expired token"
        )(view)
        return blp.doc(security=BEARER)(view)

    return decorator
