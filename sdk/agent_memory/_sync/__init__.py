"""Generated sync mirror of ``agent_memory._async``; do not edit."""
