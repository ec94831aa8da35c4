"""Unit tests of ``fapiao.catalogue``."""
