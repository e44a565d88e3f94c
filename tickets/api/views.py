"""Tickets, their conversation and their system log over the API. Views parse, call a selector or service,
and render."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api.views import ApiView, ListApiView
from tickets import selectors, services
from tickets.api.serializers import (
    MessageCreateSerializer,
    MessageSerializer,
    TicketCreateSerializer,
    TicketEventSerializer,
    TicketSerializer,
    TicketUpdateSerializer,
    ticket_row_data,
)
from tickets.filters import TicketFilter

TICKETS = ["tickets"]


class TicketListApi(ListApiView):
    filterset_class = TicketFilter
    keyset_orderings = {
        "-created_at": ("-created_at", "-id"), "created_at": ("created_at", "id"),
        "-updated_at": ("-updated_at", "-id"), "updated_at": ("updated_at", "id"),
        # Only tickets with a running SLA clock (see get): keyset pages cannot step across nulls.
        "sla_due": ("sla_due_at", "id"),
    }

    @extend_schema(tags=TICKETS, responses=TicketSerializer(many=True), summary="List tickets",
                   description="The tickets this key may see: all of them for an admin key; for an agent key, "
                   "those of the agent's departments, those assigned to the agent, and those with no department.")
    def get(self, request: Request) -> Response:
        tickets = selectors.ticket_list(actor=self.actor, filters=request.query_params)
        if request.query_params.get("ordering") == "sla_due":
            tickets = tickets.filter(sla_due_at__isnull=False)
        return self.paginated_rows(selectors.ticket_rows(tickets), self._represent)

    @staticmethod
    def _represent(rows: list[dict]) -> list[dict]:
        tags = selectors.tag_names_by_ticket(ticket_ids=[row["id"] for row in rows])
        return [ticket_row_data(row, tags.get(row["id"], [])) for row in rows]

    @extend_schema(tags=TICKETS, request=TicketCreateSerializer, responses={201: TicketSerializer},
                   summary="Open a ticket with the customer's first message")
    def post(self, request: Request) -> Response:
        serializer = TicketCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        contact = services.ContactData(**data.pop("contact"))
        ticket = services.ticket_create(actor=self.actor, contact=contact, **data)
        return Response(TicketSerializer(ticket).data, status=status.HTTP_201_CREATED)


class TicketDetailApi(ApiView):
    @extend_schema(tags=TICKETS, responses=TicketSerializer, summary="Get a ticket")
    def get(self, request: Request, ticket_id: int) -> Response:
        return Response(TicketSerializer(selectors.ticket_get(actor=self.actor, ticket_id=ticket_id)).data)

    @extend_schema(tags=TICKETS, request=TicketUpdateSerializer, responses=TicketSerializer,
                   summary="Change a ticket")
    def patch(self, request: Request, ticket_id: int) -> Response:
        ticket = selectors.ticket_get(actor=self.actor, ticket_id=ticket_id)
        serializer = TicketUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        ticket = services.ticket_update(actor=self.actor, ticket=ticket, **serializer.validated_data)
        # Shown as changed even when the change (a transfer) takes the ticket out of this agent's sight.
        return Response(TicketSerializer(ticket).data)


class TicketMessageListApi(ListApiView):
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(tags=TICKETS, responses=MessageSerializer(many=True), summary="List a ticket's messages",
                   description="Oldest first, internal notes included.")
    def get(self, request: Request, ticket_id: int) -> Response:
        ticket = selectors.ticket_get(actor=self.actor, ticket_id=ticket_id)
        return self.paginated(selectors.message_list(actor=self.actor, ticket=ticket), MessageSerializer)

    @extend_schema(tags=TICKETS, request=MessageCreateSerializer, responses={201: MessageSerializer},
                   summary="Reply, add a note, or add a customer message")
    def post(self, request: Request, ticket_id: int) -> Response:
        ticket = selectors.ticket_get(actor=self.actor, ticket_id=ticket_id)
        serializer = MessageCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = services.message_add(actor=self.actor, ticket=ticket, **serializer.validated_data)
        message = selectors.message_list(actor=self.actor, ticket=ticket).get(pk=message.pk)
        return Response(MessageSerializer(message, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)


class TicketEventListApi(ListApiView):
    @extend_schema(tags=TICKETS, responses=TicketEventSerializer(many=True),
                   summary="List a ticket's system log", description="Oldest first; the log is append-only.")
    def get(self, request: Request, ticket_id: int) -> Response:
        ticket = selectors.ticket_get(actor=self.actor, ticket_id=ticket_id)
        return self.paginated(selectors.event_list(actor=self.actor, ticket=ticket), TicketEventSerializer)
