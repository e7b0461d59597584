"""Generated sync mirror of ``agent_memory.stores.cosmos._async``; do not edit."""
