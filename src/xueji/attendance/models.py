"""The attendance app's tables."""
