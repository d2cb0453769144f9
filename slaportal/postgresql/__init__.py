"""Django's PostgreSQL backend, with timestamps read by psycopg's C loader
(``slaportal.timestamps``). Settings put it in place of Django's own."""
