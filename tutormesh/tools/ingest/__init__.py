"""Deck ingest: parse a tutorial deck and draft curriculum content from it."""
