from django.apps import AppConfig


class SlaportalConfig(AppConfig):
    name = "slaportal"

    def ready(self) -> None:
        from . import freshness, lookups

        freshness.watch_writes()
        lookups.register()
