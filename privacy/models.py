"""The app's tables."""
