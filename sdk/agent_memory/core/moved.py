"""Old import paths kept working for one more release: a module that now lives elsewhere."""

from __future__ import annotations

import warnings
from importlib import import_module
from typing import Any


def alias(old: str, new: str, namespace: dict[str, Any]) -> None:
    """Fill ``namespace`` (the old module's globals) with ``new``'s names; warn once.

    Raises nothing; the warning is a :class:`DeprecationWarning` naming the new path, shown at
    the importer's line (``stacklevel`` reaches past the import machinery).
    """
    warnings.warn(
        f"{old} moved to {new}; import from there (or from agent_memory) instead",
        DeprecationWarning,
        stacklevel=3,
    )
    module = import_module(new)
    namespace.update({k: v for k, v in vars(module).items() if not k.startswith("__")})
    namespace["__all__"] = [k for k in vars(module) if not k.startswith("_")]
