"""Unit tests, one folder per package of ``fapiao`` (``test_<module>.py``); top-level
modules (``dates``, ``logs``) are tested here. Sockets are disabled (``conftest.py``).

Every folder is a package, so test modules are named ``unit.<package>.test_<module>``
and two folders may hold files of the same name.
"""
