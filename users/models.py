"""Models of the users app (see ARCHITECTURE.md)."""
