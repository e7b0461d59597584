"""Generate every ``_sync`` package from its sibling ``_async`` one; ``--check`` fails on drift.

The async code is the source of truth. Each ``agent_memory/**/_async/`` folder has a generated
``_sync/`` twin beside it, module for module (as in httpcore). Each line goes through the
substitutions below, then the output is formatted with ruff, so the generated files are stable
and reviewable.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "sdk" / "agent_memory"

SUBS: list[tuple[str, str]] = [
    (r"\b(agent_memory(?:\.\w+)*)\._async\b", r"\1._sync"),
    (r"\bagent_memory\.stores\.sqlite\.async_store\b", "agent_memory.stores.sqlite.store"),
    (r"\bazure\.identity\.aio\b", "azure.identity"),
    (r"\bazure\.cosmos\.aio\b", "azure.cosmos"),
    (r"\bAsync([A-Z]\w*)", r"\1"),
    (r"\basyncio\.Lock\b", "threading.Lock"),
    (r"\bAwaitable\[([^\]]+)\]", r"\1"),
    (r"^import asyncio$", "import threading"),
    (r"\basync def\b", "def"),
    (r"\basync with\b", "with"),
    (r"\basync for\b", "for"),
    (r"\bawait ", ""),
    (r"__aenter__", "__enter__"),
    (r"__aexit__", "__exit__"),
    (r" \(async source; the sync \w+ is generated\)", " (sync, generated)"),
    (r" \(async source\)", " (sync, generated)"),
    (r" \(async\)", " (sync, generated)"),
]
_COMPILED = [(re.compile(pattern), repl) for pattern, repl in SUBS]


def sources() -> list[Path]:
    """Every ``_async`` folder of the package."""
    return sorted(p for p in PACKAGE.rglob("_async") if p.is_dir())


def header(name: str) -> str:
    """The do-not-edit banner of a generated file (``name`` relative to the package)."""
    return (
        f"# Generated from agent_memory/{name} by scripts/unasync.py. Do not edit:\n"
        "# change the async source and run `python scripts/unasync.py`.\n"
    )


def transform(text: str) -> str:
    """Apply every substitution line by line."""
    lines = []
    for line in text.splitlines(keepends=True):
        for pattern, repl in _COMPILED:
            line = pattern.sub(repl, line)
        lines.append(line)
    return "".join(lines)


def generate(root: Path) -> list[Path]:
    """Write the sync mirror of every async module under ``root`` (the package, or a scratch
    copy of its layout for ``--check``); return the files written."""
    written = []
    for folder in sources():
        relative = folder.relative_to(PACKAGE)
        target = root / relative.parent / "_sync"
        target.mkdir(parents=True, exist_ok=True)
        dotted = ".".join(("agent_memory", *relative.parts))
        for source in sorted(folder.glob("*.py")):
            text = transform(source.read_text(encoding="utf-8"))
            if source.name == "__init__.py":
                text = f'"""Generated sync mirror of ``{dotted}``; do not edit."""\n'
            else:
                text = header(f"{relative.as_posix()}/{source.name}") + text
            out = target / source.name
            out.write_text(text, encoding="utf-8")
            written.append(out)
    return _format(written)


def _format(written: list[Path]) -> list[Path]:
    """Sort imports and format the generated files with ruff."""
    files = [str(path) for path in written]
    ruff = [sys.executable, "-m", "ruff"]
    subprocess.run([*ruff, "check", "--quiet", "--fix", "--select", "I,F401", *files], cwd=ROOT)
    subprocess.run([*ruff, "format", "--quiet", *files], check=True, cwd=ROOT)
    return written


def main() -> int:
    """Generate, or with ``--check`` compare against what is committed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a _sync is out of date")
    args = parser.parse_args()
    if not args.check:
        generate(PACKAGE)
        return 0
    with tempfile.TemporaryDirectory(dir=ROOT) as tmp:
        scratch = Path(tmp)
        fresh = {f.relative_to(scratch): f.read_text(encoding="utf-8") for f in generate(scratch)}
    committed = {
        f.relative_to(PACKAGE): f.read_text(encoding="utf-8")
        for folder in sources()
        for f in (folder.parent / "_sync").glob("*.py")
    }
    stale = sorted(str(name) for name, text in fresh.items() if committed.get(name) != text)
    extra = sorted(str(name) for name in committed if name not in fresh)
    if stale or extra:
        print(
            f"generated sync code is out of date: {', '.join(stale + extra)}. "
            "Run `python scripts/unasync.py`.",
            file=sys.stderr,
        )
        return 1
    print("every _sync package is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
