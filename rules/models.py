"""Models of the rules app (see ARCHITECTURE.md)."""
