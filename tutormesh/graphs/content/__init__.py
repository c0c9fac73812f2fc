"""The content graph: a parsed deck becomes a draft of lessons, verified items and an assignment."""
