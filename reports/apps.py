from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports and deliveries"

    def ready(self) -> None:
        from agreements import events, standing

        from .notifications.notices import on_announced
        from .selectors.cards import team_lines

        standing.provide(team_lines)
        events.listen(on_announced)
