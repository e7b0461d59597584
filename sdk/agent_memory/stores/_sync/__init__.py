"""Generated sync mirror of ``agent_memory.stores._async``; do not edit."""
