"""Conformance tests: the spec's own TestScripts run against the server (R4 testscript.html)."""
