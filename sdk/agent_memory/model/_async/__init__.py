"""Async sources; the sibling ``_sync`` package is generated from them by ``scripts/unasync.py``."""
