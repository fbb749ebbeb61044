"""flask-smorest Blueprint whose JSON parsing never turns hostile input into a 500."""

import json

import flask_smorest
from webargs.flaskparser import FlaskParser


class SafeParser(FlaskParser):
    """Treat JSON nested deeper than Python can decode as malformed (400)."""

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except RecursionError as exc:
            raise json.JSONDecodeError("nested too deeply", "<deep>", 0) from exc


class Blueprint(flask_smorest.Blueprint):
    """The Blueprint every API resource uses."""

    ARGUMENTS_PARSER = SafeParser()
