"""The REST API v1: tokens, authentication, throttling, idempotency, errors,
pagination and the routes. Resources live with their app (``agreements.api``)."""
