"""The admin graph."""
