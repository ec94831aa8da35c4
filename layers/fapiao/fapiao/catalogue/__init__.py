"""The vocabularies: invoice types and error codes, one table each."""
