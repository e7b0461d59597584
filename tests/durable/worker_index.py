"""Index a Function app with the Functions Python worker's own code, as the worker does at start.

``python -m tests.durable.worker_index <app dir>`` imports ``function_app.py`` from that
directory with the worker's ``loader.index_function_app`` (the module lookup and the
one-``FunctionRegister`` rule), then runs every function through the worker's
``functions.Registry().add_indexed_function`` (binding directions, annotations, return
bindings). It prints one JSON line per function: ``{"name", "ok", "error"}``. The host loads
nothing when any function fails here.

The worker's code is the ``azure-functions-runtime`` package (pure Python; on 3.11 installed
with ``pip install --no-deps --ignore-requires-python azure-functions-runtime
azurefunctions-extensions-base``). Only ``BindingInfo`` of the worker's protobuf module is
read while indexing; its values are those of the worker's ``FunctionRpc.proto``
(``BindingInfo.Direction``: in 0, out 1, inout 2; ``BindingInfo.DataType``: undefined 0).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any


def protos() -> Any:
    """The ``BindingInfo`` values ``Registry.add_indexed_function`` compares with."""
    return SimpleNamespace(BindingInfo=SimpleNamespace(in_=0, out=1, inout=2, undefined=0))


def index(app_dir: Path) -> list[dict[str, Any]]:
    """Every function of ``app_dir/function_app.py``, indexed by the worker's registry."""
    from azure_functions_runtime import functions, loader
    from azure_functions_runtime.bindings import meta

    logging.disable(logging.WARNING)
    sys.path.insert(0, str(app_dir))
    meta.load_binding_registry()
    registry = functions.Registry()
    results = []
    for function in loader.index_function_app(str(app_dir / "function_app.py")):
        try:
            registry.add_indexed_function(function, protos())
            results.append({"name": function.get_function_name(), "ok": True, "error": None})
        except Exception as exc:  # FunctionLoadError and friends: report, keep going
            error = f"{type(exc).__name__}: {exc}"
            results.append({"name": function.get_function_name(), "ok": False, "error": error})
    return results


if __name__ == "__main__":
    for line in index(Path(sys.argv[1]).resolve()):
        print(json.dumps(line))
