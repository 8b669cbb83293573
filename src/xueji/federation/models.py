"""The federation app's tables."""
