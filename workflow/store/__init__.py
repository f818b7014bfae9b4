"""The store: the only package that talks to the database. Opening it (engine, SQLite pragmas, file
identity), its tables and migrations, and the named queries the services call."""
