"""Generated sync mirror of ``agent_memory.processor._async``; do not edit."""
