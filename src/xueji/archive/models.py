"""The archive app's tables."""
