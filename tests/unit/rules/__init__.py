"""Unit tests of ``fapiao.rules``."""
