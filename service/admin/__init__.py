"""Admin endpoints and the audit log of every admin action."""
