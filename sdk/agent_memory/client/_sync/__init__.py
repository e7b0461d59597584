"""Generated sync mirror of ``agent_memory.client._async``; do not edit."""
