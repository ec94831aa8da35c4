"""Integration tests: local AWS (moto) and fake providers on loopback.

A package, so test modules are named ``integration.test_<name>`` and one test module
imports another as ``from integration.test_ingest_pipeline import ...``.
"""
