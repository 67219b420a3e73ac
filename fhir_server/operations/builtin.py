"""The operation modules shipped with the server (each registers itself on import)."""
