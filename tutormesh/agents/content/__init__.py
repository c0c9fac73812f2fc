"""The SME content agent: deck -> draft lessons, verified items and an assignment (docs/content.md)."""
