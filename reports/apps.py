from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports and deliveries"

    def ready(self) -> None:
        from agreements import standing

        from .selectors.cards import team_lines

        standing.provide(team_lines)
