"""The local hub and command line (not shipped in the Lambda layer)."""
