from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"

    def ready(self) -> None:
        from helpdesk import hooks
        from routing import services

        hooks.connect(hooks.TICKET_CREATED, services.on_ticket_created)
        hooks.connect(hooks.TICKET_UPDATED, services.on_ticket_updated)
        hooks.connect(hooks.AGENT_UPDATED, services.on_agent_updated)
