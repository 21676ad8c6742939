"""Scoring a detection run against ground truth."""
