"""The assessment graph."""
