"""One parser per deck format, each `parse(path, max_pages) -> Parsed`; `ingest.parse` picks one."""
