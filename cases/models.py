"""Models of the cases app (see ARCHITECTURE.md)."""
