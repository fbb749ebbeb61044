"""Identifiers as PostgreSQL stores them."""

MAX_ID = 2**63 - 1  # bigint
