"""Use cases: each one function that a handler calls."""
