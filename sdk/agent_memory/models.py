"""Deprecated path: ``agent_memory.models`` is now ``agent_memory.core.models``."""

from agent_memory.core.moved import alias

alias(__name__, "agent_memory.core.models", globals())
