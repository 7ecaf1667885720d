"""Models of the transactions app (see ARCHITECTURE.md)."""
