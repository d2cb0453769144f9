"""Friction reports, their comments, pain points and the knowledge base: the
models, services, selectors, forms, pages and API."""
