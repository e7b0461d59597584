"""The host-side, I/O part of the Durable driver: the change-feed trigger, the sweeper, forget,
the activity wrappers, the per-worker store and model client, the task hub client protocol and
the app settings. It may import anything below the client; the replay-safe part of
:mod:`agent_memory.durable` never imports it."""
