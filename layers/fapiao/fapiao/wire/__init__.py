"""Pydantic models of the five specs, field names exactly as on the wire."""
