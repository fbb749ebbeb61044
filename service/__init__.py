"""IRL's HTTP API and product logic.

``service/`` runs the queries that join people, contacts and events, behind one blueprint
per resource (``routes.py`` + ``schemas.py``, use cases in plain modules beside them),
while ``geo/`` is the Flask-free geolocation core: spatial expression builders,
coordinate validation, the privacy grid and the pure rules. Importing a module of this
package builds nothing: ``create_app`` (``service.app``) is loaded on first use, so the
pure rules can be imported and tested without Flask's blueprints.
"""


def __getattr__(name: str):
    """``from service import create_app`` without importing every blueprint up front."""
    if name == "create_app":
        from service.app import create_app

        return create_app
    raise AttributeError(f"module 'service' has no attribute {name!r}")
