"""The negotiation graph."""
