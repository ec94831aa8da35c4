"""Unit tests of ``fapiao.api``."""
