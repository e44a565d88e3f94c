from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self) -> None:
        from reports import drilldown
        from tickets import scopes

        # A figure's drill-down opens the inbox, scoped to the tickets the figure counted.
        scopes.register(drilldown.SCOPE_PARAM, drilldown.inbox_scope)
