"""The API families: each turns errors into its spec's envelope, looked up in the catalogue."""
