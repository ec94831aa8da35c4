"""Unit tests of ``fapiao.services``."""
