"""The pipeline steps as host-free activities: ``step(store, ai, request) -> result``.

``pipeline/_async/`` is the source (``_sync`` is generated). What is pure about them (step names,
requests and results, grounding, supersede planning, prompts) lives in :mod:`agent_memory.core`.
"""
