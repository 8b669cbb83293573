"""Two-level deployment: provincial nodes and the national hub."""
