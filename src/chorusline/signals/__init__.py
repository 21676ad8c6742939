"""Signals: one module per signal, each returning edges or per-account features (ARCHITECTURE §4)."""
