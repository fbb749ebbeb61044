"""The venue owner's web dashboard at ``/owner/`` (static page + the JSON API)."""
