"""Deprecated path: ``agent_memory.pipeline.due`` is now ``agent_memory.core.due``."""

from agent_memory.core.moved import alias

alias(__name__, "agent_memory.core.due", globals())
