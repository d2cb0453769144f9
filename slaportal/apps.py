from django.apps import AppConfig


class SlaportalConfig(AppConfig):
    name = "slaportal"

    def ready(self) -> None:
        from . import freshness

        freshness.watch_writes()
