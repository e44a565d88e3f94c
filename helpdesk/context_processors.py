from django.http import HttpRequest

from helpdesk import selectors


def tenancy(request: HttpRequest) -> dict:
    actor = getattr(request, "actor", None)
    user = getattr(request, "user", None)
    memberships = []
    if actor is not None and actor.membership is not None and user is not None and user.is_authenticated:
        memberships = getattr(request, "user_memberships", None)
        if memberships is None:
            memberships = list(selectors.membership_list_for_user(user=user))
    return {"actor": actor, "tenant": actor.tenant if actor else None, "user_memberships": memberships}
