"""The agreements app's API resources: teams, agreements with their
objectives and lifecycle actions, and ``me``. Routed in ``api.urls``."""
