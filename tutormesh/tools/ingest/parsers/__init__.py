"""One parser per deck format, each `parse(path, settings) -> Parsed`; `ingest.parse` picks one."""
