"""Unit tests of ``fapiao.recognize``."""
