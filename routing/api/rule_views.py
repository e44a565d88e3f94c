"""Automation rules over the API (admins): CRUD, moving, dry runs, and the audit of changes."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api.views import ApiView, ListApiView
from routing.api.rule_serializers import (
    DryRunRangeSerializer,
    DryRunSerializer,
    DryRunUnsavedSerializer,
    RuleChangeSerializer,
    RuleInputSerializer,
    RuleMoveSerializer,
    RuleSerializer,
)
from routing.api.views import IsTenantAdmin
from routing.rules import dry_run, selectors, services

RULES = ["rules"]


class RuleListApi(ListApiView):
    permission_classes = [IsTenantAdmin]
    keyset_orderings = {"position": ("position", "id")}

    @extend_schema(tags=RULES, responses=RuleSerializer(many=True), summary="List automation rules",
                   description="In the order they run. Admins only.")
    def get(self, request: Request) -> Response:
        return self.paginated(selectors.rule_list(actor=self.actor), RuleSerializer)

    @extend_schema(tags=RULES, request=RuleInputSerializer, responses={201: RuleSerializer},
                   summary="Create a rule", description="Added last in the order; inactive unless `active`.")
    def post(self, request: Request) -> Response:
        serializer = RuleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rule = services.rule_create(actor=self.actor, data=dict(serializer.validated_data))
        return Response(RuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class RuleDetailApi(ApiView):
    permission_classes = [IsTenantAdmin]

    @extend_schema(tags=RULES, responses=RuleSerializer, summary="Get a rule")
    def get(self, request: Request, rule_id: int) -> Response:
        return Response(RuleSerializer(selectors.rule_get(actor=self.actor, rule_id=rule_id)).data)

    @extend_schema(tags=RULES, request=RuleInputSerializer, responses=RuleSerializer, summary="Change a rule",
                   description="Send only what changes; the whole rule is checked again. Recorded with who "
                   "changed it.")
    def patch(self, request: Request, rule_id: int) -> Response:
        rule = selectors.rule_get(actor=self.actor, rule_id=rule_id)
        serializer = RuleInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        rule = services.rule_update(actor=self.actor, rule=rule, data=dict(serializer.validated_data))
        return Response(RuleSerializer(rule).data)

    @extend_schema(tags=RULES, responses={204: None}, summary="Delete a rule")
    def delete(self, request: Request, rule_id: int) -> Response:
        services.rule_delete(actor=self.actor, rule=selectors.rule_get(actor=self.actor, rule_id=rule_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RuleMoveApi(ApiView):
    permission_classes = [IsTenantAdmin]

    @extend_schema(tags=RULES, request=RuleMoveSerializer, responses=RuleSerializer, summary="Move a rule",
                   description="One place up or down in the order rules run in.")
    def post(self, request: Request, rule_id: int) -> Response:
        rule = selectors.rule_get(actor=self.actor, rule_id=rule_id)
        serializer = RuleMoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rule = services.rule_move(actor=self.actor, rule=rule, **serializer.validated_data)
        return Response(RuleSerializer(rule).data)


_DRY_RUN_DESCRIPTION = ("Which tickets created in the range the rule matches (as they are now) and what it would "
                        "change on each; nothing is changed.")


class RuleDryRunApi(ApiView):
    permission_classes = [IsTenantAdmin]

    @extend_schema(tags=RULES, request=DryRunUnsavedSerializer,
                   responses={200: DryRunSerializer, 400: OpenApiResponse(description="Invalid rule or range.")},
                   summary="Try an unsaved rule", description=_DRY_RUN_DESCRIPTION)
    def post(self, request: Request) -> Response:
        serializer = DryRunUnsavedSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = dry_run.rule_dry_run(actor=self.actor, data=dict(data["rule"]), start=data["start"],
                                      end=data["end"])
        return Response(DryRunSerializer(result).data)


class SavedRuleDryRunApi(ApiView):
    permission_classes = [IsTenantAdmin]

    @extend_schema(tags=RULES, request=DryRunRangeSerializer, responses=DryRunSerializer,
                   summary="Try a saved rule", description=_DRY_RUN_DESCRIPTION)
    def post(self, request: Request, rule_id: int) -> Response:
        rule = selectors.rule_get(actor=self.actor, rule_id=rule_id)
        serializer = DryRunRangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = dry_run.rule_dry_run(actor=self.actor, data=services.definition_of(rule),
                                      **serializer.validated_data)
        return Response(DryRunSerializer(result).data)


class RuleChangeListApi(ListApiView):
    permission_classes = [IsTenantAdmin]
    keyset_orderings = {"-created_at": ("-created_at", "-id")}

    @extend_schema(tags=RULES, responses=RuleChangeSerializer(many=True), summary="List changes to rules",
                   description="Who created, changed, moved, switched or deleted which rule; newest first.")
    def get(self, request: Request) -> Response:
        return self.paginated(selectors.rule_change_list(actor=self.actor), RuleChangeSerializer)
