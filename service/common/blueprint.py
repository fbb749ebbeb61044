"""flask-smorest Blueprint whose JSON parsing never turns hostile input into a 500."""

import json

import flask_smorest
from webargs.flaskparser import FlaskParser, abort

TOO_DEEP = "nested too deeply"


class SafeParser(FlaskParser):
    """Treat JSON nested deeper than Python can decode as malformed (400), and say so."""

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except RecursionError as exc:
            raise json.JSONDecodeError(TOO_DEEP, "<deep>", 0) from exc

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        if isinstance(error, json.JSONDecodeError) and error.msg == TOO_DEEP:
            abort(
                400,
                exc=error,
                message="The JSON body is nested too deeply (hundreds of levels of arrays "
                "or objects) to read; send a flatter body.",
                messages={"json": ["JSON nested too deeply."]},
            )
        super()._handle_invalid_json_error(error, req, *args, **kwargs)


class Blueprint(flask_smorest.Blueprint):
    """The Blueprint every API resource uses."""

    ARGUMENTS_PARSER = SafeParser()
