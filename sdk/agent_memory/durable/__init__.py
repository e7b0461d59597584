"""The Durable Functions driver of the memory pipeline, as plain, host-free Python.

``function_app.py`` at the repository root declares the bindings and delegates here:
:mod:`.trigger` (change feed -> orchestration requests), :mod:`.entity` (the per-user counter),
:mod:`.orchestration` (the orchestrator), :mod:`.activities` (activity wrappers) and
:mod:`.worker` (the store and model client each worker builds once). Only
:mod:`.orchestration` and :mod:`.trigger` touch ``azure.durable_functions``, lazily; install it
with ``pip install -e ".[functions]"``.
"""
