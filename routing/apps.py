from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"

    def ready(self) -> None:
        from django.db.models.signals import pre_delete

        from departments.models import AgentProfile, Department
        from helpdesk import hooks
        from routing import services
        from routing.rules import deletions, receivers
        from routing.rules import tasks as rule_tasks  # noqa: F401 - registers the rules' Celery tasks
        from tickets.models import Category

        # A new ticket meets the "ticket created" rules first; they hand it to routing when done.
        hooks.connect(hooks.TICKET_CREATED, receivers.on_ticket_created)
        hooks.connect(hooks.TICKET_UPDATED, services.on_ticket_updated)
        hooks.connect(hooks.TICKET_UPDATED, receivers.on_ticket_updated)
        hooks.connect(hooks.MESSAGE_ADDED, receivers.on_message_added)
        hooks.connect(hooks.AGENT_UPDATED, services.on_agent_updated)
        from routing.rules import integrations

        optional = [integrations.model(kind) for kind in ("template", "sla")]
        for model in (Department, AgentProfile, Category, *(m for m in optional if m is not None)):
            pre_delete.connect(deletions.on_reference_deleted, sender=model,
                               dispatch_uid=f"rules-reference-{model.__name__}")
