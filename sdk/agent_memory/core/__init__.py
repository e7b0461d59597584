"""The pure core: models, validation, errors, query types, step names, due-step rules,
grounding, supersede planning, batching and the versioned prompts.

No I/O and no Azure imports; every other part of the package imports it, and it imports
nothing of the package outside ``agent_memory.core`` (``tests/test_import_contracts.py``).
Modules load one by one: importing :mod:`agent_memory.core.due` does not load NumPy.
"""
