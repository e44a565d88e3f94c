"""Departments and agents over the API. Views parse, call a selector or service, and render."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from departments import selectors, services
from departments.api.serializers import (
    AgentCreateSerializer,
    AgentSerializer,
    AgentUpdateSerializer,
    DepartmentCreateSerializer,
    DepartmentSerializer,
    DepartmentUpdateSerializer,
)
from departments.filters import AgentFilter, DepartmentFilter
from helpdesk.api.permissions import IsTenantAdminOrReadOnly
from helpdesk.api.views import ApiView, ListApiView

DEPARTMENTS = ["departments"]
AGENTS = ["agents"]


class DepartmentListApi(ListApiView):
    # Checked before the body is read: an agent learns nothing from the validation of a request they may not make.
    permission_classes = [IsTenantAdminOrReadOnly]
    filterset_class = DepartmentFilter
    keyset_orderings = {"name": ("name", "id"), "-name": ("-name", "-id"), "id": ("id",), "-id": ("-id",)}

    @extend_schema(tags=DEPARTMENTS, responses=DepartmentSerializer(many=True), summary="List departments")
    def get(self, request: Request) -> Response:
        return self.paginated(selectors.department_list(actor=self.actor, filters=request.query_params),
                              DepartmentSerializer)

    @extend_schema(tags=DEPARTMENTS, request=DepartmentCreateSerializer, responses={201: DepartmentSerializer},
                   summary="Create a department (admins)")
    def post(self, request: Request) -> Response:
        serializer = DepartmentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        department = services.department_create(actor=self.actor, **serializer.validated_data)
        department = selectors.department_get(actor=self.actor, department_id=department.pk)
        return Response(DepartmentSerializer(department).data, status=status.HTTP_201_CREATED)


class DepartmentDetailApi(ApiView):
    @extend_schema(tags=DEPARTMENTS, responses=DepartmentSerializer, summary="Get a department")
    def get(self, request: Request, department_id: int) -> Response:
        department = selectors.department_get(actor=self.actor, department_id=department_id)
        return Response(DepartmentSerializer(department).data)

    @extend_schema(tags=DEPARTMENTS, request=DepartmentUpdateSerializer, responses=DepartmentSerializer,
                   summary="Change a department (admins)")
    def patch(self, request: Request, department_id: int) -> Response:
        department = selectors.department_get(actor=self.actor, department_id=department_id)
        serializer = DepartmentUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.department_update(actor=self.actor, department=department, **serializer.validated_data)
        department = selectors.department_get(actor=self.actor, department_id=department_id)
        return Response(DepartmentSerializer(department).data)


class AgentListApi(ListApiView):
    permission_classes = [IsTenantAdminOrReadOnly]
    filterset_class = AgentFilter
    keyset_orderings = {
        "display_name": ("display_name", "id"), "-display_name": ("-display_name", "-id"),
        "id": ("id",), "-id": ("-id",),
    }

    @extend_schema(tags=AGENTS, responses=AgentSerializer(many=True), summary="List agents")
    def get(self, request: Request) -> Response:
        return self.paginated(selectors.agent_list(actor=self.actor, filters=request.query_params), AgentSerializer)

    @extend_schema(tags=AGENTS, request=AgentCreateSerializer, responses={201: AgentSerializer},
                   summary="Add an agent (admins)")
    def post(self, request: Request) -> Response:
        serializer = AgentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        agent = services.agent_create(actor=self.actor, **serializer.validated_data)
        agent = selectors.agent_get(actor=self.actor, agent_id=agent.pk)
        return Response(AgentSerializer(agent).data, status=status.HTTP_201_CREATED)


class AgentDetailApi(ApiView):
    @extend_schema(tags=AGENTS, responses=AgentSerializer, summary="Get an agent")
    def get(self, request: Request, agent_id: int) -> Response:
        return Response(AgentSerializer(selectors.agent_get(actor=self.actor, agent_id=agent_id)).data)

    @extend_schema(tags=AGENTS, request=AgentUpdateSerializer, responses=AgentSerializer,
                   summary="Change an agent (admins; an agent may change their own status)")
    def patch(self, request: Request, agent_id: int) -> Response:
        agent = selectors.agent_get(actor=self.actor, agent_id=agent_id)
        serializer = AgentUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.agent_update(actor=self.actor, agent=agent, **serializer.validated_data)
        return Response(AgentSerializer(selectors.agent_get(actor=self.actor, agent_id=agent_id)).data)
