"""Read a contact import from either JSON or a multipart file upload."""

from flask import request
from marshmallow import ValidationError, missing

from service.common.blueprint import Blueprint
from service.contacts.importers import parse_upload
from service.contacts.schemas import ContactImportSchema, ContactUploadFormSchema
from service.errors import DomainError


def read_import() -> tuple[str, list[str]]:
    """``(network, handles)`` from the current request; 400 if the JSON does not parse (as
    every endpoint), 422 with field errors if invalid."""
    try:
        if request.mimetype == "multipart/form-data":
            form = ContactUploadFormSchema().load(request.form.to_dict())
            upload = request.files.get("file")
            if upload is None:
                raise ValidationError({"file": ["Attach the export as the file field."]})
            return form["network"], parse_upload(upload.read())
        body = Blueprint.ARGUMENTS_PARSER.load_json(request, ContactImportSchema())
        if body is missing:
            raise DomainError(
                "Send JSON {network, handles} or a multipart upload with fields network and file."
            )
        payload = ContactImportSchema().load(body)
        return payload["network"], payload["handles"]
    except ValidationError as exc:
        location = "form" if request.mimetype == "multipart/form-data" else "json"
        raise DomainError(
            "Some fields are invalid; see errors for what to fix.", errors={location: exc.messages}
        ) from exc
