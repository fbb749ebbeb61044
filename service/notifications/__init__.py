"""Notifications: nearby friends, meetings, badges and mayorships — inbox, stream, push."""
