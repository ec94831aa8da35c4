"""fapiao: the shared layer of the invoice hub."""
