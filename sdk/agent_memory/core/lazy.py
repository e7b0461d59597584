"""Package faces whose names load their modules on first use (PEP 562 ``__getattr__``).

``import agent_memory`` (or ``agent_memory.aio``, ``agent_memory.stores``) then costs nothing
until a name is used: ``CosmosStore`` needs ``azure.cosmos``, ``SqliteStore`` ``sqlite3`` and
NumPy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

#: Public name -> defining module, or (defining module, name there) for an alias.
Exports = Mapping[str, str | tuple[str, str]]


def lazy_exports(package: str, exports: Exports, namespace: dict[str, Any]) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``package``: imports a name's module when first asked,
    keeps the value in ``namespace`` (the package's globals) and raises ``AttributeError``
    for any name not in ``exports``."""

    def __getattr__(name: str) -> Any:
        target = exports.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attribute = target if isinstance(target, tuple) else (target, name)
        value = getattr(import_module(module), attribute)
        namespace[name] = value
        return value

    return __getattr__
