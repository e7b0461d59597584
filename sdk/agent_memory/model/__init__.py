"""The model client: structured chat completions with bounded output, and the factories that
build it (and the embedder) from :class:`~agent_memory.settings.Settings`."""
