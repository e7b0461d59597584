"""Async sources; ``agent_memory._sync`` is generated from here by ``scripts/unasync.py``."""
