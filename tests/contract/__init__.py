"""Contract tests: every JSON example of the specs parses and round-trips
(``spec_examples`` reads them; other suites import it as ``contract.spec_examples``).
"""
