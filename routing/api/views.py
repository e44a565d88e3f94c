"""Calls from the telephony provider, routing decisions with their reasons, agents' ringing offers, and the
routing settings with their audit. Views parse, call a selector or service, and render."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api.permissions import IsTenantMember
from helpdesk.api.views import ApiView, ListApiView
from routing import calls, selectors, services
from routing.api.serializers import (
    CallCreateSerializer,
    CallEventSerializer,
    CallSerializer,
    DecisionSerializer,
    OfferSerializer,
    RoutingSettingsSerializer,
    RoutingSettingsUpdateSerializer,
    SettingsChangeSerializer,
)
from routing.filters import DecisionFilter
from tickets.api.serializers import TicketSerializer
from tickets.selectors import ticket_get

CALLS = ["calls"]
ROUTING = ["routing"]


class IsTenantAdmin(IsTenantMember):
    """Admins and owners (and admin keys) only."""

    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and request.user.is_admin


# --- calls ------------------------------------------------------------------------------------------------

class CallListApi(ApiView):
    @extend_schema(tags=CALLS, request=CallCreateSerializer, responses={201: CallSerializer},
                   summary="Report an incoming call",
                   description="For the telephony provider's webhook, with an admin API key. Opens a ticket of "
                   "channel `call` (recognising the caller by number) and queues it for an agent.")
    def post(self, request: Request) -> Response:
        serializer = CallCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        call = calls.call_receive(actor=self.actor, **serializer.validated_data)
        return Response(CallSerializer(call).data, status=status.HTTP_201_CREATED)


class CallDetailApi(ApiView):
    @extend_schema(tags=CALLS, responses=CallSerializer, summary="Get a call")
    def get(self, request: Request, call_id: int) -> Response:
        return Response(CallSerializer(selectors.call_get(actor=self.actor, call_id=call_id)).data)


class CallEventApi(ApiView):
    @extend_schema(tags=CALLS, request=CallEventSerializer, responses=CallSerializer,
                   summary="Report what happened on a call",
                   description="`answered` or `missed` while it rings, `ended` (with `duration_seconds`) once "
                   "answered; any other order is refused. An ended call resolves its ticket.")
    def post(self, request: Request, call_id: int) -> Response:
        call = selectors.call_get(actor=self.actor, call_id=call_id)
        serializer = CallEventSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        call = calls.call_event(actor=self.actor, call=call, **serializer.validated_data)
        return Response(CallSerializer(selectors.call_get(actor=self.actor, call_id=call.pk)).data)


# --- decisions --------------------------------------------------------------------------------------------

class DecisionListApi(ListApiView):
    filterset_class = DecisionFilter
    keyset_orderings = {"-created_at": ("-created_at", "-id"), "created_at": ("created_at", "id")}

    @extend_schema(tags=ROUTING, responses=DecisionSerializer(many=True), summary="List routing decisions",
                   description="Why items went to whom: every candidate with status, load, priority and last "
                   "assignment, and why each one that lost lost. Only decisions about tickets this key may see.")
    def get(self, request: Request) -> Response:
        return self.paginated(selectors.decision_list_filtered(actor=self.actor, filters=request.query_params),
                              DecisionSerializer)


class DecisionDetailApi(ApiView):
    @extend_schema(tags=ROUTING, responses=DecisionSerializer, summary="Get a routing decision")
    def get(self, request: Request, decision_id: int) -> Response:
        return Response(DecisionSerializer(selectors.decision_get(actor=self.actor, decision_id=decision_id)).data)


# --- offers -----------------------------------------------------------------------------------------------

class OfferListApi(ListApiView):
    keyset_orderings = {"created_at": ("created_at", "id")}

    @extend_schema(tags=ROUTING, responses=OfferSerializer(many=True), summary="List my ringing offers",
                   description="The chats, calls and tickets ringing for the key's agent, oldest first. Empty for "
                   "keys that act as no agent.")
    def get(self, request: Request) -> Response:
        return self.paginated(selectors.offer_list_ringing(actor=self.actor), OfferSerializer)


class OfferAcceptApi(ApiView):
    @extend_schema(tags=ROUTING, request=None,
                   responses={200: TicketSerializer, 409: OpenApiResponse(description="No longer ringing, or "
                                                                          "another agent accepted it first.")},
                   summary="Accept an offer", description="The ticket becomes the agent's.")
    def post(self, request: Request, offer_id: int) -> Response:
        ticket = services.offer_accept(actor=self.actor, offer_id=offer_id)
        return Response(TicketSerializer(ticket_get(actor=self.actor, ticket_id=ticket.pk)).data)


class OfferDeclineApi(ApiView):
    @extend_schema(tags=ROUTING, request=None,
                   responses={204: None, 409: OpenApiResponse(description="The offer is no longer ringing.")},
                   summary="Decline an offer", description="The item moves on to the next agent.")
    def post(self, request: Request, offer_id: int) -> Response:
        services.offer_decline(actor=self.actor, offer_id=offer_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- settings ---------------------------------------------------------------------------------------------

class RoutingSettingsApi(ApiView):
    @extend_schema(tags=ROUTING, responses=RoutingSettingsSerializer, summary="Get the routing settings")
    def get(self, request: Request) -> Response:
        return Response(RoutingSettingsSerializer(services.settings_get()).data)

    @extend_schema(tags=ROUTING, request=RoutingSettingsUpdateSerializer, responses=RoutingSettingsSerializer,
                   summary="Change the routing settings", description="Admins only.")
    def patch(self, request: Request) -> Response:
        serializer = RoutingSettingsUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        config = services.settings_update(actor=self.actor, **serializer.validated_data)
        return Response(RoutingSettingsSerializer(config).data)


class SettingsChangeListApi(ListApiView):
    permission_classes = [IsTenantAdmin]
    keyset_orderings = {"-created_at": ("-created_at", "-id")}

    @extend_schema(tags=ROUTING, responses=SettingsChangeSerializer(many=True),
                   summary="List changes to routing settings",
                   description="Who changed which routing setting or agent routing value (priority, maximum "
                   "load, channels), from what to what; newest first. Admins only.")
    def get(self, request: Request) -> Response:
        return self.paginated(selectors.settings_change_list(actor=self.actor), SettingsChangeSerializer)
