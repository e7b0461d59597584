"""Generate ``agent_memory/_sync`` from ``agent_memory/_async``; ``--check`` fails on drift.

The async code is the source of truth. Each line goes through the substitutions below, then
the output is formatted with ruff, so the generated files are stable and reviewable.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "sdk" / "agent_memory" / "_async"
TARGET = ROOT / "sdk" / "agent_memory" / "_sync"

SUBS: list[tuple[str, str]] = [
    (r"\bagent_memory\._async\b", "agent_memory._sync"),
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


def header(name: str) -> str:
    """The do-not-edit banner of a generated file."""
    return (
        f"# Generated from agent_memory/_async/{name} by scripts/unasync.py. Do not edit:\n"
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


def generate(target: Path) -> list[Path]:
    """Write the sync mirror of every async module into ``target``; return the files."""
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sorted(SOURCE.glob("*.py")):
        text = transform(source.read_text(encoding="utf-8"))
        if source.name == "__init__.py":
            text = '"""Generated sync mirror of ``agent_memory._async``; do not edit."""\n'
        else:
            text = header(source.name) + text
        out = target / source.name
        out.write_text(text, encoding="utf-8")
        written.append(out)
    files = [str(path) for path in written]
    ruff = [sys.executable, "-m", "ruff"]
    subprocess.run([*ruff, "check", "--quiet", "--fix", "--select", "I,F401", *files], cwd=ROOT)
    subprocess.run([*ruff, "format", "--quiet", *files], check=True, cwd=ROOT)
    return written


def main() -> int:
    """Generate, or with ``--check`` compare against what is committed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if _sync is out of date")
    args = parser.parse_args()
    if not args.check:
        generate(TARGET)
        return 0
    with tempfile.TemporaryDirectory(dir=ROOT) as tmp:
        fresh = generate(Path(tmp))
        stale = [
            f.name
            for f in fresh
            if not (TARGET / f.name).exists()
            or (TARGET / f.name).read_text(encoding="utf-8") != f.read_text(encoding="utf-8")
        ]
        extra = sorted(p.name for p in TARGET.glob("*.py") if not (SOURCE / p.name).exists())
    if stale or extra:
        print(
            f"agent_memory/_sync is out of date: {', '.join(stale + extra)}. "
            "Run `python scripts/unasync.py`.",
            file=sys.stderr,
        )
        return 1
    print("agent_memory/_sync is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
