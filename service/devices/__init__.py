"""Devices registered for push notifications."""
