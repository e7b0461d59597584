"""Deprecated path: ``agent_memory.errors`` is now ``agent_memory.core.errors``."""

from agent_memory.core.moved import alias

alias(__name__, "agent_memory.core.errors", globals())
