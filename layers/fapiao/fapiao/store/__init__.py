"""Ports (small protocols) and their AWS adapters."""
