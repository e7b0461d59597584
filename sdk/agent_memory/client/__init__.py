"""The memory client: ``client/_async/client.py`` is the source, ``_sync`` is generated."""
