"""Unit tests of ``fapiao.settings``."""
