"""Email templates and canned responses over the API: admins write them; agents read and search."""

from __future__ import annotations

from django.db.models import Q
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from departments import replies as services
from departments.api.serializers import DepartmentRefSerializer
from departments.models import Department, EmailTemplate, TemplateKind
from helpdesk.api.permissions import IsTenantAdminOrReadOnly
from helpdesk.api.serializers import StrictInputSerializer, TenantObjectField
from helpdesk.api.views import ApiView, ListApiView
from helpdesk.errors import ApplicationError

TEMPLATES = ["email templates"]
CANNED = ["canned responses"]
PLACEHOLDER_HELP = "Placeholders: " + ", ".join(f"{{{{{name}}}}}" for name in services.PLACEHOLDERS) + "."


class EmailTemplateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    department = DepartmentRefSerializer(allow_null=True, help_text="None: the company-wide template.")
    kind = serializers.ChoiceField(choices=TemplateKind.choices)
    subject = serializers.CharField()
    body = serializers.CharField()
    enabled = serializers.BooleanField(help_text="Sent automatically (acknowledgement, out of hours, resolved, "
                                                 "satisfaction) or used for replies.")
    updated_at = serializers.DateTimeField()


class EmailTemplateCreateSerializer(StrictInputSerializer):
    department = TenantObjectField(model=Department, noun="department", required=False, allow_null=True)
    kind = serializers.ChoiceField(choices=TemplateKind.choices)
    subject = serializers.CharField(max_length=250, help_text=PLACEHOLDER_HELP)
    body = serializers.CharField(trim_whitespace=False, help_text=PLACEHOLDER_HELP)
    enabled = serializers.BooleanField(required=False, default=True)


class EmailTemplateUpdateSerializer(StrictInputSerializer):
    subject = serializers.CharField(max_length=250, required=False)
    body = serializers.CharField(trim_whitespace=False, required=False)
    enabled = serializers.BooleanField(required=False)


class EmailTemplateListApi(ListApiView):
    permission_classes = [IsTenantAdminOrReadOnly]

    @extend_schema(tags=TEMPLATES, responses=EmailTemplateSerializer(many=True), summary="List email templates")
    def get(self, request: Request) -> Response:
        return self.paginated(EmailTemplate.objects.select_related("department"), EmailTemplateSerializer)

    @extend_schema(tags=TEMPLATES, request=EmailTemplateCreateSerializer, responses={201: EmailTemplateSerializer},
                   summary="Create an email template (admins)")
    def post(self, request: Request) -> Response:
        serializer = EmailTemplateCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        template = services.email_template_create(actor=self.actor, **serializer.validated_data)
        return Response(EmailTemplateSerializer(services.email_template_get(template_id=template.pk)).data,
                        status=status.HTTP_201_CREATED)


class EmailTemplateDetailApi(ApiView):
    permission_classes = [IsTenantAdminOrReadOnly]

    @extend_schema(tags=TEMPLATES, responses=EmailTemplateSerializer, summary="Get an email template")
    def get(self, request: Request, template_id: int) -> Response:
        return Response(EmailTemplateSerializer(services.email_template_get(template_id=template_id)).data)

    @extend_schema(tags=TEMPLATES, request=EmailTemplateUpdateSerializer, responses=EmailTemplateSerializer,
                   summary="Change an email template (admins)")
    def patch(self, request: Request, template_id: int) -> Response:
        template = services.email_template_get(template_id=template_id)
        serializer = EmailTemplateUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.email_template_update(actor=self.actor, template=template, **serializer.validated_data)
        return Response(EmailTemplateSerializer(services.email_template_get(template_id=template_id)).data)

    @extend_schema(tags=TEMPLATES, responses={204: None}, summary="Delete an email template (admins)")
    def delete(self, request: Request, template_id: int) -> Response:
        template = services.email_template_get(template_id=template_id)
        services.email_template_delete(actor=self.actor, template=template)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CannedResponseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    department = DepartmentRefSerializer(allow_null=True, help_text="None: offered on every ticket.")
    shortcut = serializers.CharField(help_text="Typed after / in the reply box.")
    title = serializers.CharField()
    body = serializers.CharField()
    updated_at = serializers.DateTimeField()


class CannedResponseCreateSerializer(StrictInputSerializer):
    department = TenantObjectField(model=Department, noun="department", required=False, allow_null=True)
    shortcut = serializers.CharField(max_length=40)
    title = serializers.CharField(max_length=120)
    body = serializers.CharField(trim_whitespace=False, help_text=PLACEHOLDER_HELP)


class CannedResponseUpdateSerializer(CannedResponseCreateSerializer):
    shortcut = serializers.CharField(max_length=40, required=False)
    title = serializers.CharField(max_length=120, required=False)
    body = serializers.CharField(trim_whitespace=False, required=False)


class CannedResponseListApi(ListApiView):
    permission_classes = [IsTenantAdminOrReadOnly]

    @extend_schema(
        tags=CANNED, responses=CannedResponseSerializer(many=True), summary="List or search canned responses",
        parameters=[
            OpenApiParameter("q", str, description="Shortcut prefix or words of the title."),
            OpenApiParameter("department", int, description="Only those usable on this department's tickets."),
        ],
    )
    def get(self, request: Request) -> Response:
        rows = services.canned_response_list()
        department = request.query_params.get("department", "")
        if department:
            if not department.isdigit():
                raise ApplicationError("Invalid input.", fields={"department": ["A department id."]})
            rows = rows.filter(Q(department__isnull=True) | Q(department_id=int(department)))
        query = request.query_params.get("q", "").strip().lower().lstrip("/")
        if query:
            rows = rows.filter(Q(shortcut__startswith=query) | Q(title__icontains=query))
        return self.paginated(rows, CannedResponseSerializer)

    @extend_schema(tags=CANNED, request=CannedResponseCreateSerializer, responses={201: CannedResponseSerializer},
                   summary="Create a canned response (admins)")
    def post(self, request: Request) -> Response:
        serializer = CannedResponseCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        canned = services.canned_response_create(actor=self.actor, **serializer.validated_data)
        return Response(CannedResponseSerializer(services.canned_response_get(canned_id=canned.pk)).data,
                        status=status.HTTP_201_CREATED)


class CannedResponseDetailApi(ApiView):
    permission_classes = [IsTenantAdminOrReadOnly]

    @extend_schema(tags=CANNED, responses=CannedResponseSerializer, summary="Get a canned response")
    def get(self, request: Request, canned_id: int) -> Response:
        return Response(CannedResponseSerializer(services.canned_response_get(canned_id=canned_id)).data)

    @extend_schema(tags=CANNED, request=CannedResponseUpdateSerializer, responses=CannedResponseSerializer,
                   summary="Change a canned response (admins)")
    def patch(self, request: Request, canned_id: int) -> Response:
        canned = services.canned_response_get(canned_id=canned_id)
        serializer = CannedResponseUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.canned_response_update(actor=self.actor, canned=canned, **serializer.validated_data)
        return Response(CannedResponseSerializer(services.canned_response_get(canned_id=canned_id)).data)

    @extend_schema(tags=CANNED, responses={204: None}, summary="Delete a canned response (admins)")
    def delete(self, request: Request, canned_id: int) -> Response:
        services.canned_response_delete(actor=self.actor, canned=services.canned_response_get(canned_id=canned_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
