"""Campaigns: clusters of the fused graph with scores, evidence and explanations."""
