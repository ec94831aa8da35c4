"""Unit tests of ``fapiao.mapping``."""
