"""torch: converter, adapters and upstream facts."""
