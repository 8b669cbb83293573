"""The reporting app's tables."""
