"""The package's import rules, checked on the source (AST) and in a fresh interpreter.

1. The core (``agent_memory.core``) imports nothing of the package outside itself, and no
   backend, network or Azure library.
2. The replay-safe part of the Durable driver (the modules orchestrator and entity code run)
   imports only the core, itself, pydantic, ``azure.durable_functions`` and pure standard
   library modules: no store, no model client, no I/O.
3. No module imports a layer above its own (``LAYERS``, lowest first).
4. Importing the entity or the orchestrator loads neither NumPy nor ``sqlite3`` nor the Cosmos
   DB or OpenAI clients.

Every ``import`` counts, including function-level and ``TYPE_CHECKING`` ones.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sdk" / "agent_memory"

#: Layers, lowest first: a module may import its own layer and the ones before it.
LAYERS: tuple[str, ...] = (
    "agent_memory.core",
    "agent_memory.settings",
    "agent_memory.embeddings",
    "agent_memory.stores",
    "agent_memory.model",
    "agent_memory.pipeline",
    "agent_memory.processor",
    "agent_memory.client",
    "agent_memory.durable",
    "agent_memory.durable.host",
    "agent_memory.demo",
    "agent_memory.cli",
    "agent_memory.aio",
)

#: The replay-safe Durable modules: what replayed orchestrator and entity code imports.
REPLAY_SAFE: frozenset[str] = frozenset(
    f"agent_memory.durable.{name}"
    for name in ("entity", "orchestration", "messages", "timing", "names", "deadletters")
) | {"agent_memory.durable"}

#: Standard-library modules the replay-safe part may use: no clock, randomness, I/O or threads.
PURE_STDLIB: frozenset[str] = frozenset(
    {
        "__future__",
        "collections",
        "dataclasses",
        "datetime",
        "enum",
        "functools",
        "hashlib",
        "itertools",
        "json",
        "logging",
        "math",
        "re",
        "typing",
    }
)

#: Never imported by the core: backends, network, processes, the cloud SDKs.
NOT_IN_CORE: frozenset[str] = frozenset(
    {
        "azure",
        "openai",
        "sqlite3",
        "socket",
        "http",
        "urllib",
        "subprocess",
        "shutil",
        "tempfile",
        "wordllama",
        "threading",
    }
)

#: Old paths that re-export a moved module; they may point anywhere below them.
DEPRECATED_ALIASES: frozenset[str] = frozenset(
    {"agent_memory.errors", "agent_memory.models", "agent_memory.pipeline.due"}
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> list[str]:
    """Absolute names imported by module ``name`` (relative imports resolved)."""
    path = modules()[name]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                origin = ".".join([*base, node.module] if node.module else base)
            else:
                origin = node.module or ""
            found.append(origin)
            # ``from agent_memory.x import y`` may import the submodule ``x.y``
            for alias in node.names:
                if f"{origin}.{alias.name}" in modules():
                    found.append(f"{origin}.{alias.name}")
    return found


def layer_of(name: str) -> int | None:
    best: int | None = None
    for index, layer in enumerate(LAYERS):
        inside = name == layer or name.startswith(layer + ".")
        if inside and (best is None or len(layer) > len(LAYERS[best])):
            best = index
    return best


def loaded_after_import(module: str) -> set[str]:
    """The modules a fresh interpreter holds after ``import module``."""
    probe = f"import json, sys\nimport {module}\nprint(json.dumps(sorted(sys.modules)))\n"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return set(json.loads(out))


def test_every_module_has_a_layer() -> None:
    faces = {"agent_memory", *DEPRECATED_ALIASES, "agent_memory.cli.__main__"}
    unplaced = [m for m in modules() if layer_of(m) is None and m not in faces]
    assert unplaced == []


def test_the_core_imports_only_itself_and_no_backend() -> None:
    bad = [
        (name, imported)
        for name in modules()
        if name.startswith("agent_memory.core")
        for imported in imports_of(name)
        if (imported.startswith("agent_memory") and not imported.startswith("agent_memory.core"))
        or imported.split(".")[0] in NOT_IN_CORE
    ]
    assert bad == []


def test_the_replay_safe_durable_part_imports_only_the_core_pydantic_and_durable_functions() -> (
    None
):
    assert set(modules()) >= REPLAY_SAFE
    bad = []
    for name in sorted(REPLAY_SAFE):
        for imported in imports_of(name):
            top = imported.split(".")[0]
            allowed = (
                imported.startswith("agent_memory.core")
                or imported in REPLAY_SAFE
                or top == "pydantic"
                or imported == "azure.durable_functions"
                or imported.startswith("azure.durable_functions.")
                or top in PURE_STDLIB
            )
            if not allowed:
                bad.append((name, imported))
    assert bad == []


def test_no_module_imports_a_layer_above_its_own() -> None:
    bad = []
    for name in modules():
        own = layer_of(name)
        if own is None or name in DEPRECATED_ALIASES:
            continue
        for imported in imports_of(name):
            if not imported.startswith("agent_memory"):
                continue
            if imported == "agent_memory":
                bad.append((name, imported))  # the public face is the top, never a dependency
                continue
            target = layer_of(imported)
            if target is not None and target > own and not imported.startswith(name + "."):
                bad.append((name, imported))
    assert bad == []


def test_nothing_imports_a_deprecated_alias() -> None:
    bad = [
        (name, imported)
        for name in modules()
        for imported in imports_of(name)
        if imported in DEPRECATED_ALIASES and name not in DEPRECATED_ALIASES
    ]
    assert bad == []


@pytest.mark.parametrize(
    "module", ["agent_memory.durable.entity", "agent_memory.durable.orchestration"]
)
def test_replayed_code_loads_no_backend_in_a_fresh_interpreter(module: str) -> None:
    probe = f"import json, sys\nimport {module}\nprint(json.dumps(sorted(sys.modules)))\n"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    loaded = set(json.loads(out))
    heavy = {"numpy", "sqlite3", "_sqlite3", "azure.cosmos", "openai", "azure.identity"}
    assert heavy & loaded == set()
    ours = {m for m in loaded if m.startswith("agent_memory.")}
    assert all(m.startswith(("agent_memory.core", "agent_memory.durable")) for m in ours), ours
    assert not any(m.startswith("agent_memory.durable.host") for m in ours)


def test_deprecated_paths_still_work_and_warn() -> None:
    probe = (
        "import warnings\n"
        "warnings.simplefilter('error', DeprecationWarning)\n"
        "try:\n"
        "    import agent_memory.models\n"
        "except DeprecationWarning as w:\n"
        "    print('warned:', w)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert "agent_memory.core.models" in out
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from agent_memory.models import Memory as OldMemory
        from agent_memory.pipeline.due import Thresholds as OldThresholds

    import agent_memory

    assert OldMemory is agent_memory.Memory
    assert OldThresholds is agent_memory.Thresholds


@pytest.mark.parametrize("face", ["agent_memory", "agent_memory.aio", "agent_memory.stores"])
def test_package_faces_load_no_backend_until_a_name_is_used(face: str) -> None:
    loaded = loaded_after_import(face)
    assert {"numpy", "sqlite3", "azure.cosmos", "openai"} & loaded == set()
