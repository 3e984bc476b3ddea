"""keras: converter, adapters and upstream facts."""
