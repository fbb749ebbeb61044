"""Venue footfall: rollups kept as check-ins arrive, and the owner's statistics."""
