"""Business hours and SLA policies over the API: admins create, change and delete; agents read."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from departments import business_hours as services
from departments.api.serializers import DepartmentRefSerializer
from departments.models import BusinessHours, Department, SlaPolicy
from helpdesk.api.permissions import IsTenantAdminOrReadOnly
from helpdesk.api.serializers import StrictInputSerializer, TenantObjectField
from helpdesk.api.views import ApiView, ListApiView

HOURS = ["business hours"]
SLA = ["SLA policies"]


# --- business hours ---------------------------------------------------------------------------------------

class HolidaySerializer(serializers.Serializer):
    date = serializers.DateField()
    name = serializers.CharField(allow_blank=True)
    recurring = serializers.BooleanField(help_text="Closed on this day every year.")


class BusinessHoursSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    department = DepartmentRefSerializer(allow_null=True, help_text="None: the company's hours.")
    time_zone = serializers.CharField()
    weekly = serializers.DictField(
        child=serializers.ListField(child=serializers.ListField(child=serializers.CharField())),
        help_text='Shifts per weekday: {"mon": [["09:00", "12:00"], ["13:00", "17:00"]]}; a shift whose end is '
                  "not after its start runs across midnight.",
    )
    holidays = HolidaySerializer(many=True)
    out_of_hours_reply = serializers.BooleanField()
    updated_at = serializers.DateTimeField()


class BusinessHoursInputSerializer(StrictInputSerializer):
    time_zone = serializers.CharField(max_length=64, required=False, help_text="The company's when not given.")
    # Checked whole by the service, which names each wrong shift.
    weekly = serializers.JSONField(help_text='{"mon": [["09:00", "17:00"]], ...}; weekdays mon..sun.')
    holidays = serializers.JSONField(required=False, help_text='[{"date": "2025-12-25", "name": "Christmas", '
                                                                '"recurring": true}]')
    out_of_hours_reply = serializers.BooleanField(required=False)


class BusinessHoursCreateSerializer(BusinessHoursInputSerializer):
    department = TenantObjectField(model=Department, noun="department", required=False, allow_null=True,
                                   help_text="Department id; leave out for the company's hours.")


class BusinessHoursUpdateSerializer(BusinessHoursInputSerializer):
    weekly = serializers.JSONField(required=False)


class BusinessHoursListApi(ListApiView):
    permission_classes = [IsTenantAdminOrReadOnly]

    @extend_schema(tags=HOURS, responses=BusinessHoursSerializer(many=True), summary="List business hours")
    def get(self, request: Request) -> Response:
        return self.paginated(BusinessHours.objects.select_related("department"), BusinessHoursSerializer)

    @extend_schema(tags=HOURS, request=BusinessHoursCreateSerializer, responses={201: BusinessHoursSerializer},
                   summary="Set the company's or a department's business hours (admins)")
    def post(self, request: Request) -> Response:
        serializer = BusinessHoursCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        hours = services.business_hours_create(actor=self.actor, **serializer.validated_data)
        return Response(BusinessHoursSerializer(services.business_hours_get(hours_id=hours.pk)).data,
                        status=status.HTTP_201_CREATED)


class BusinessHoursDetailApi(ApiView):
    permission_classes = [IsTenantAdminOrReadOnly]

    @extend_schema(tags=HOURS, responses=BusinessHoursSerializer, summary="Get business hours")
    def get(self, request: Request, hours_id: int) -> Response:
        return Response(BusinessHoursSerializer(services.business_hours_get(hours_id=hours_id)).data)

    @extend_schema(tags=HOURS, request=BusinessHoursUpdateSerializer, responses=BusinessHoursSerializer,
                   summary="Change business hours (admins)")
    def patch(self, request: Request, hours_id: int) -> Response:
        hours = services.business_hours_get(hours_id=hours_id)
        serializer = BusinessHoursUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.business_hours_update(actor=self.actor, hours=hours, **serializer.validated_data)
        return Response(BusinessHoursSerializer(services.business_hours_get(hours_id=hours_id)).data)

    @extend_schema(tags=HOURS, responses={204: None}, summary="Delete business hours (admins)")
    def delete(self, request: Request, hours_id: int) -> Response:
        services.business_hours_delete(actor=self.actor, hours=services.business_hours_get(hours_id=hours_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- SLA policies -----------------------------------------------------------------------------------------

class SlaPolicySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    targets = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField(allow_null=True)),
        help_text='Business minutes per priority and target: {"urgent": {"first_response": 60, '
                  '"next_response": 120, "resolution": 480}}.',
    )
    customer_domains = serializers.ListField(child=serializers.CharField(),
                                             help_text="Customers with these email domains get this policy.")
    is_default = serializers.BooleanField(help_text="The company's policy when no other applies.")
    due_soon_minutes = serializers.IntegerField(help_text="How long before a due time it is announced.")
    created_at = serializers.DateTimeField()


class SlaPolicyCreateSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=120)
    targets = serializers.JSONField()
    customer_domains = serializers.JSONField(required=False)
    is_default = serializers.BooleanField(required=False)
    due_soon_minutes = serializers.IntegerField(required=False)


class SlaPolicyUpdateSerializer(SlaPolicyCreateSerializer):
    name = serializers.CharField(max_length=120, required=False)
    targets = serializers.JSONField(required=False)


class SlaPolicyListApi(ListApiView):
    permission_classes = [IsTenantAdminOrReadOnly]

    @extend_schema(tags=SLA, responses=SlaPolicySerializer(many=True), summary="List SLA policies")
    def get(self, request: Request) -> Response:
        return self.paginated(SlaPolicy.objects.all(), SlaPolicySerializer)

    @extend_schema(tags=SLA, request=SlaPolicyCreateSerializer, responses={201: SlaPolicySerializer},
                   summary="Create an SLA policy (admins)")
    def post(self, request: Request) -> Response:
        serializer = SlaPolicyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        policy = services.sla_policy_create(actor=self.actor, **serializer.validated_data)
        return Response(SlaPolicySerializer(policy).data, status=status.HTTP_201_CREATED)


class SlaPolicyDetailApi(ApiView):
    permission_classes = [IsTenantAdminOrReadOnly]

    @extend_schema(tags=SLA, responses=SlaPolicySerializer, summary="Get an SLA policy")
    def get(self, request: Request, policy_id: int) -> Response:
        return Response(SlaPolicySerializer(services.sla_policy_get(policy_id=policy_id)).data)

    @extend_schema(tags=SLA, request=SlaPolicyUpdateSerializer, responses=SlaPolicySerializer,
                   summary="Change an SLA policy (admins)")
    def patch(self, request: Request, policy_id: int) -> Response:
        policy = services.sla_policy_get(policy_id=policy_id)
        serializer = SlaPolicyUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        policy = services.sla_policy_update(actor=self.actor, policy=policy, **serializer.validated_data)
        return Response(SlaPolicySerializer(policy).data)

    @extend_schema(tags=SLA, responses={204: None}, summary="Delete an SLA policy (admins)")
    def delete(self, request: Request, policy_id: int) -> Response:
        services.sla_policy_delete(actor=self.actor, policy=services.sla_policy_get(policy_id=policy_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
