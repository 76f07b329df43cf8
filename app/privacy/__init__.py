"""Erasing a caller and scrubbing old call details (SPEC 12)."""
