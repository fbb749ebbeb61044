"""Venue claims: a person asks to own a venue, an admin decides."""
