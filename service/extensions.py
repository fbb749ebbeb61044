"""Extensions created unbound; ``create_app`` binds them."""

from flask_jwt_extended import JWTManager

jwt = JWTManager()
