"""The fused graph (fuse.py) and its clusters (cluster.py)."""
