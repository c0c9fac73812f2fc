"""Deck content: ingest jobs, the review of drafts, and publishing them to students (docs/content.md)."""
