"""Mappers between wire models and the canonical model, one module per spec."""
