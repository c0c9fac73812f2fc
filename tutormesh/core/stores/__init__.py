"""Store adapters over the SQL database (SQLite embedded, Postgres in production)."""
