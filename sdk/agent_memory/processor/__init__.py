"""Processors: when pipeline steps run. In-process (counts in the store, runs the steps inline
or in the background) or remote (a Durable Functions app runs them; the client only waits)."""
