"""Exports: STIX 2.1, MISP, indicator CSV, graph files."""
