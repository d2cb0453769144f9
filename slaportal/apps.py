from django.apps import AppConfig


class SlaportalConfig(AppConfig):
    name = "slaportal"

    def ready(self) -> None:
        from . import freshness, timestamps

        freshness.watch_writes()
        timestamps.parse_in_c()
