"""Unit tests of ``fapiao.providers``."""
