"""Contacts: import follow lists, follow and unfollow IRL users, list them."""

from flask import current_app
from flask.views import MethodView
from werkzeug.routing import BaseConverter

from service.auth.tokens import current_user
from service.common import cursor
from service.common.blueprint import Blueprint
from service.common.docs import authenticated
from service.contacts import service
from service.contacts.schemas import (
    ContactImportSchema,
    ContactPageSchema,
    ContactQuerySchema,
    ContactSchema,
    FollowSchema,
    ImportResultSchema,
)
from service.contacts.uploads import read_import
from service.database import db
from service.idempotency import idempotent
from service.models.social import NETWORKS

blp = Blueprint("contacts", __name__, url_prefix="/api/v1/me/contacts", description="Contacts")


class HandleConverter(BaseConverter):
    """A handle in a path, never ``import`` (that path is the import: a handle may not
    be named so, and its Allow header lists only what the import takes)."""

    regex = r"(?!import(?![^/]))[^/]+"


blp.record_once(lambda state: state.app.url_map.converters.setdefault("handle", HandleConverter))

UPLOAD_BODY = {
    "content": {
        "application/json": {"schema": ContactImportSchema},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["network", "file"],
                "additionalProperties": False,
                "properties": {
                    "network": {"type": "string", "enum": list(NETWORKS)},
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "Mastodon following_accounts.csv or one handle per line",
                    },
                },
            }
        },
    }
}


@blp.route("")
class Contacts(MethodView):
    @authenticated(blp)
    @blp.arguments(ContactQuerySchema, location="query")
    @blp.response(200, ContactPageSchema)
    def get(self, args):
        """People I follow, with mutual and in-person history"""
        after = args["cursor"]
        items, last = service.list_contacts(
            db_session=db.session,
            user=current_user(),
            limit=args["limit"],
            after=after,
            mutual=args.get("mutual"),
        )
        return {"items": items, "next_cursor": cursor.encode(*last) if last else None}

    @authenticated(blp)
    @idempotent
    @blp.arguments(FollowSchema)
    @blp.response(201, ContactSchema)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="No such user")
    def post(self, payload):
        """Follow an IRL user by handle"""
        return service.follow_handle(
            db_session=db.session, user=current_user(), handle=payload["handle"]
        )


@blp.route("/import")
class ContactImport(MethodView):
    @blp.doc(operationId="importContacts")
    @authenticated(blp)
    @idempotent
    @blp.doc(requestBody=UPLOAD_BODY)
    @blp.response(200, ImportResultSchema)
    def post(self):
        """Import the people I follow on a network (JSON list or the exported file)"""
        network, handles = read_import()
        return service.import_handles(
            db_session=db.session,
            user=current_user(),
            network=network,
            handles=handles,
            pending_cap=current_app.config["PENDING_FOLLOWS_MAX"],
        )


@blp.route("/<handle:handle>")
class ContactByHandle(MethodView):
    @authenticated(blp)
    @blp.response(204)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="Not followed")
    def delete(self, handle):
        """Stop following someone"""
        service.unfollow_handle(db_session=db.session, user=current_user(), handle=handle)
        db.session.commit()
