"""``python -m agent_memory.cli``: the same as the ``agent-memory`` command."""

from agent_memory.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
