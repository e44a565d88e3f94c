from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _secure_tables(sender, using: str = "default", **kwargs) -> None:
    from helpdesk.rls import apply_row_level_security

    apply_row_level_security(using)


class HelpdeskConfig(AppConfig):
    name = "helpdesk"
    verbose_name = "Tenancy and accounts"

    def ready(self) -> None:
        # post_migrate is sent once per app after every migration has run; acting on our own app's signal
        # secures all tenant tables once per migrate.
        post_migrate.connect(_secure_tables, sender=self, dispatch_uid="helpdesk.rls")
