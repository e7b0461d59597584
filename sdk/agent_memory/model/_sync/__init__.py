"""Generated sync mirror of ``agent_memory.model._async``; do not edit."""
