"""Generated sync mirror of ``agent_memory.embeddings._async``; do not edit."""
