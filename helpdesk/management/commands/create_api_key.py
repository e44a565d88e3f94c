from django.core.management.base import BaseCommand, CommandError

from helpdesk.errors import ApplicationError
from helpdesk.models import Membership, Role, Tenant
from helpdesk.services import api_key_create
from helpdesk.tenancy import tenant_context


class Command(BaseCommand):
    help = "Create an API key for a tenant and print it. The key is stored hashed and cannot be shown again."

    def add_arguments(self, parser):
        parser.add_argument("tenant_slug")
        parser.add_argument("name")
        parser.add_argument("--role", choices=[Role.ADMIN, Role.AGENT], default=Role.ADMIN)
        parser.add_argument("--agent", metavar="EMAIL", help="For an agent key: the member it acts as.")

    def handle(self, *args, tenant_slug: str, name: str, role: str, agent: str | None, **options) -> None:
        tenant = Tenant.objects.filter(slug=tenant_slug).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug {tenant_slug!r}.")
        membership = None
        if agent:
            membership = Membership.objects.filter(tenant=tenant, user__email=agent.lower()).first()
            if membership is None:
                raise CommandError(f"{agent} is not a member of {tenant_slug}.")
        try:
            with tenant_context(tenant):
                _, raw_key = api_key_create(tenant=tenant, name=name, role=role, membership=membership)
        except ApplicationError as exc:
            details = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.fields.items())
            raise CommandError(f"{exc.message} {details}".strip()) from exc
        self.stdout.write(raw_key)
