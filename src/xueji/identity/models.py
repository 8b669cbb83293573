"""The identity app's tables."""
