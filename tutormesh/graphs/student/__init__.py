"""The student graph."""
