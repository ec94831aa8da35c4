"""End-to-end tests: ``fapiao serve`` driven over HTTP as a client would.

A package, so test modules are named ``e2e.test_<name>`` and one test module (or a
bench script) imports another as ``from e2e.test_hub_restart import ...``.
"""
