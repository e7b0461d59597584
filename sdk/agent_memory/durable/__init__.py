"""The Durable Functions driver of the memory pipeline, as plain, host-free Python.

Two parts:

- the **replay-safe** part, here: :mod:`.entity` (the per-user counter), :mod:`.orchestration`
  (the orchestrator), :mod:`.messages`, :mod:`.timing`, :mod:`.names` and :mod:`.deadletters`.
  It runs inside replayed orchestrator and entity code, so it imports only
  :mod:`agent_memory.core`, pydantic and ``azure.durable_functions`` (lazily) — an import rule
  ``tests/test_import_contracts.py`` enforces;
- the **host-side** part, :mod:`.host`: the change-feed trigger, the sweeper, forget, the
  activity wrappers and the worker's store and model client.

``function_app.py`` at the repository root declares the bindings and delegates to both. Install
the Functions packages with ``pip install -e ".[functions]"``.
"""
