"""Unit tests of ``fapiao.local``."""
