"""The agent's live chats over the API (an agent key acts as its agent): the same services as the chat panel."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from departments.models import AgentProfile, Department
from helpdesk.api.views import ApiView, ListApiView
from helpdesk.errors import ApplicationError
from routing import chats

CHATS = ["chats"]


class ChatMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["visitor", "agent"])
    author = serializers.CharField()
    body = serializers.CharField()
    at = serializers.DateTimeField()


class ChatSerializer(serializers.Serializer):
    ticket_id = serializers.IntegerField()
    ticket = serializers.CharField()
    subject = serializers.CharField()
    customer = serializers.CharField()
    email = serializers.CharField(allow_blank=True)
    department = serializers.CharField(allow_null=True)
    started_at = serializers.DateTimeField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    visitor_left = serializers.BooleanField()
    messages = ChatMessageSerializer(many=True)

    def to_representation(self, instance):
        return chats.chat_json(instance)


class ReplySerializer(serializers.Serializer):
    body = serializers.CharField(max_length=chats.MAX_MESSAGE_CHARS)


class TransferSerializer(serializers.Serializer):
    department_id = serializers.IntegerField(required=False)
    agent_id = serializers.IntegerField(required=False)


class ChatListApi(ListApiView):
    keyset_orderings = {"id": ("id",)}

    @extend_schema(tags=CHATS, responses=ChatSerializer(many=True), summary="List my running chats",
                   description="The key's agent's chats that have not ended, with their transcripts.")
    def get(self, request: Request) -> Response:
        return self.paginated(chats.chat_list_running(actor=self.actor), ChatSerializer)


class ChatDetailApi(ApiView):
    @extend_schema(tags=CHATS, responses=ChatSerializer, summary="Get one of my chats")
    def get(self, request: Request, ticket_id: int) -> Response:
        return Response(ChatSerializer(chats.chat_get_for_agent(actor=self.actor, ticket_id=ticket_id)).data)


class ChatReplyApi(ApiView):
    @extend_schema(tags=CHATS, request=ReplySerializer, responses={201: ChatMessageSerializer},
                   summary="Write to the visitor")
    def post(self, request: Request, ticket_id: int) -> Response:
        chat = chats.chat_get_for_agent(actor=self.actor, ticket_id=ticket_id)
        serializer = ReplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = chats.chat_agent_reply(actor=self.actor, chat=chat, body=serializer.validated_data["body"])
        return Response(chats.message_json(message), status=status.HTTP_201_CREATED)


class ChatEndApi(ApiView):
    @extend_schema(tags=CHATS, request=None,
                   responses={204: None, 409: OpenApiResponse(description="The chat has already ended.")},
                   summary="End a chat", description="The ticket is resolved and the visitor told.")
    def post(self, request: Request, ticket_id: int) -> Response:
        chats.chat_end(actor=self.actor, chat=chats.chat_get_for_agent(actor=self.actor, ticket_id=ticket_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChatTransferApi(ApiView):
    @extend_schema(tags=CHATS, request=TransferSerializer, responses={204: None}, summary="Transfer a chat",
                   description="To a department (routing rings its agents) or to an online agent (theirs at once).")
    def post(self, request: Request, ticket_id: int) -> Response:
        chat = chats.chat_get_for_agent(actor=self.actor, ticket_id=ticket_id)
        serializer = TransferSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        department = agent = None
        if "department_id" in data:
            department = Department.objects.filter(pk=data["department_id"]).first()
            if department is None:
                raise ApplicationError("Invalid input.", fields={"department_id": ["No such department."]})
        if "agent_id" in data:
            agent = AgentProfile.objects.filter(pk=data["agent_id"]).first()
            if agent is None:
                raise ApplicationError("Invalid input.", fields={"agent_id": ["No such agent."]})
        chats.chat_transfer(actor=self.actor, chat=chat, department=department, agent=agent)
        return Response(status=status.HTTP_204_NO_CONTENT)
