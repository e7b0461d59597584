"""Generated sync mirror of ``agent_memory.pipeline._async``; do not edit."""
