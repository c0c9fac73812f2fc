"""The sme graph."""
