"""The memory pipeline: when steps are due, and the host-free activities that run them."""
