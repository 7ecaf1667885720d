"""Reference data: countries and the numeric lookup tables of the customer due-diligence API (seed 003)."""
