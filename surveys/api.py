"""REST API for surveys under /api/v1/. Thin: validate, call a service or selector, serialize.

Roles: every member reads surveys and their aggregated results; editors write surveys,
questions and contacts, send surveys, see invitations (they carry addresses) and read a
store's sending settings; admins change those, export individual responses, export or erase
a contact's data and resend invitations.
A store's secret key acts as an editor for its own store only; `surveys/triggers/` is its
machine endpoint. Another organisation's object is a 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role, Store
from accounts.permissions import TenantMixin
from accounts.selectors import store_list
from core.api import query_choice, query_id, query_text
from core.schema import error_response
from journeys import selectors as journey_selectors
from surveys import selectors, services, tasks
from surveys.blueprints import TEMPLATES
from surveys.models import Contact, Invitation, Question, Survey
from surveys.serializers import (
    CommentThemesQuerySerializer,
    CommentThemesSerializer,
    ContactSerializer,
    ContactUpdateSerializer,
    MomentResultsSerializer,
    PeriodSerializer,
    QuestionCreateSerializer,
    QuestionReorderSerializer,
    QuestionSerializer,
    SendResultSerializer,
    SendSerializer,
    StoreSurveySettingsSerializer,
    SurveyCreateSerializer,
    SurveyInvitationSerializer,
    SurveyListSerializer,
    SurveyResultsSerializer,
    SurveySerializer,
    SurveyStatusSerializer,
    SurveyTemplateSerializer,
    SurveyUpdateSerializer,
    TriggeredInvitationSerializer,
    TriggerResultSerializer,
    TriggerSerializer,
)

PERIOD_PARAMETERS = [
    OpenApiParameter(
        "start",
        str,
        description="ISO date (a day in the store's time zone) or datetime; included",
    ),
    OpenApiParameter(
        "end",
        str,
        description="ISO date (that whole day is included) or datetime (excluded)",
    ),
]


class SurveyApiMixin(TenantMixin):
    """Scoping to the caller (an API key: its store) and the API's error shape."""

    def run(self, fn: Any, **kwargs: Any) -> Any:
        return fn(actor=self.tenant.actor(), **kwargs)

    def stores(self) -> QuerySet[Store]:
        return store_list(organisation=self.tenant.organisation, only_store=self.tenant.store)

    def in_store(self, rows: QuerySet, field: str = "store") -> QuerySet:
        if self.tenant.store is not None:
            return rows.filter(**{field: self.tenant.store})
        return rows

    def get_survey(self, pk: Any) -> Survey:
        survey = selectors.survey_get(organisation=self.tenant.organisation, pk=_int(pk))
        if self.tenant.store is not None and survey.store_id != self.tenant.store.pk:
            raise Http404
        return survey

    def scope_fields(self, serializer: Any) -> Any:
        """Related fields offer only the caller's own rows: anything else is 'does not exist'."""
        fields = getattr(serializer, "fields", {})
        if "store" in fields and hasattr(fields["store"], "queryset"):
            fields["store"].queryset = self.stores()
        if "survey" in fields and hasattr(fields["survey"], "queryset"):
            fields["survey"].queryset = self.in_store(
                Survey.objects.filter(organisation=self.tenant.organisation)
            )
        if "touchpoint" in fields and hasattr(fields["touchpoint"], "queryset"):
            fields["touchpoint"].queryset = journey_selectors.touchpoint_list(
                organisation=self.tenant.organisation, only_store=self.tenant.store
            )
        return serializer


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


def _period(request: Request, store: Store) -> dict[str, Any]:
    period = PeriodSerializer(data=request.query_params, time_zone=store.time_zone)
    period.is_valid(raise_exception=True)
    return dict(period.validated_data)


class StoreSurveySettingsView(SurveyApiMixin, APIView):
    """A store's survey sending settings: From name, Reply-To, fatigue window, rate. Editors
    read them (a store's secret key: its own store's); admins change them."""

    read_role = Role.EDITOR
    write_role = Role.ADMIN
    http_method_names = ["get", "patch", "head", "options"]

    def get_store(self, pk: Any) -> Store:
        store = self.stores().filter(pk=_int(pk)).first()
        if store is None:
            raise Http404
        return store

    @extend_schema(responses=StoreSurveySettingsSerializer)
    def get(self, request: Request, pk: int) -> Response:
        row = selectors.store_survey_settings_get(store=self.get_store(pk))
        return Response(StoreSurveySettingsSerializer(row).data)

    @extend_schema(request=StoreSurveySettingsSerializer, responses=StoreSurveySettingsSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        store = self.get_store(pk)
        data = StoreSurveySettingsSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        row = self.run(services.store_survey_settings_update, store=store, **data.validated_data)
        return Response(StoreSurveySettingsSerializer(row).data)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("store", int, description="Only surveys of this store"),
            OpenApiParameter("status", str, enum=Survey.Status.values),
        ]
    )
)
class SurveyViewSet(
    SurveyApiMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Surveys. They are closed (status), not deleted: their responses stay with them."""

    def get_queryset(self) -> QuerySet[Survey]:
        listing, request = self.action == "list", self.request
        surveys = self.in_store(
            selectors.survey_list(
                organisation=self.tenant.organisation,
                store_id=query_id(request, "store") if listing else None,
                status=query_choice(request, "status", Survey.Status.values) if listing else "",
            )
        )
        # Only the detail shows the questions.
        return surveys if listing else surveys.prefetch_related("questions")

    def get_serializer_class(self) -> Any:
        return {
            "list": SurveyListSerializer,
            "create": SurveyCreateSerializer,
            "update": SurveyUpdateSerializer,
            "partial_update": SurveyUpdateSerializer,
        }.get(self.action, SurveySerializer)

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        return self.scope_fields(super().get_serializer(*args, **kwargs))

    def _out(self, survey: Survey, code: int = status.HTTP_200_OK) -> Response:
        survey = selectors.survey_get(organisation=self.tenant.organisation, pk=survey.pk)
        return Response(SurveySerializer(survey).data, status=code)

    @extend_schema(request=SurveyCreateSerializer, responses={201: SurveySerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        template = data.pop("template", None)
        if template:
            survey = self.run(
                services.survey_create_from_template,
                organisation=self.tenant.organisation,
                store=data["store"],
                template=template,
                languages=data.get("languages"),
                name=data.get("name", ""),
            )
        else:
            survey = self.run(
                services.survey_create,
                organisation=self.tenant.organisation,
                **data,
            )
        return self._out(survey, status.HTTP_201_CREATED)

    @extend_schema(request=SurveyUpdateSerializer, responses=SurveySerializer)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        survey = self.get_object()
        serializer = self.get_serializer(survey, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        self.run(services.survey_update, survey=survey, **serializer.validated_data)
        return self._out(survey)

    @extend_schema(request=SurveyStatusSerializer, responses=SurveySerializer)
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request: Request, pk: str) -> Response:
        survey = self.get_object()
        data = SurveyStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        self.run(services.survey_set_status, survey=survey, status=data.validated_data["status"])
        return self._out(survey)

    @extend_schema(request=QuestionReorderSerializer, responses=SurveySerializer)
    @action(detail=True, methods=["post"], url_path="questions/reorder")
    def reorder_questions(self, request: Request, pk: str) -> Response:
        survey = self.get_object()
        data = QuestionReorderSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        self.run(services.questions_reorder, survey=survey, order=data.validated_data["order"])
        return self._out(survey)

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=SurveyResultsSerializer)
    @action(detail=True, methods=["get"])
    def results(self, request: Request, pk: str) -> Response:
        survey = self.get_object()
        period = _period(request, survey.store)
        results = selectors.survey_results(survey=survey, **period)
        return Response(SurveyResultsSerializer(results).data)

    @extend_schema(request=SendSerializer, responses={201: SendResultSerializer})
    @action(detail=True, methods=["post"])
    def send(self, request: Request, pk: str) -> Response:
        survey = self.get_object()
        data = SendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contacts = selectors.contact_list(
            organisation=self.tenant.organisation, store_id=survey.store_id
        )
        if not data.validated_data["all"]:
            ids = set(data.validated_data["contact_ids"])
            contacts = contacts.filter(pk__in=ids)
            unknown = sorted(ids - {c.pk for c in contacts})
            if unknown:
                raise serializers.ValidationError(
                    {
                        "contact_ids": [
                            _("These are not contacts of the survey's store: %(ids)s")
                            % {"ids": ", ".join(map(str, unknown))}
                        ]
                    }
                )
        summary = self.run(services.survey_send_to_contacts, survey=survey, contacts=contacts)
        return Response(SendResultSerializer(summary).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=SurveyTemplateSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None)
    def templates(self, request: Request) -> Response:
        return Response(
            SurveyTemplateSerializer(
                [
                    {
                        "key": key,
                        "label": str(t["label"]),
                        "description": str(t["description"]),
                        "kind": t["kind"],
                        "moment": t["moment"],
                        "trigger_event": t["trigger_event"],
                        "delay_hours": t["delay_hours"],
                    }
                    for key, t in TEMPLATES.items()
                ],
                many=True,
            ).data
        )


class QuestionViewSet(
    SurveyApiMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """A survey's questions; `survey` on create. A question with answers cannot be deleted."""

    def get_queryset(self) -> QuerySet[Question]:
        return self.in_store(
            selectors.question_list(organisation=self.tenant.organisation), "survey__store"
        )

    def get_serializer_class(self) -> Any:
        return QuestionCreateSerializer if self.action == "create" else QuestionSerializer

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        return self.scope_fields(super().get_serializer(*args, **kwargs))

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        serializer.instance = self.run(
            services.question_create,
            survey=data.pop("survey"),
            position=data.pop("position", None),
            **data,
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = self.run(
            services.question_update, question=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance: Question) -> None:
        self.run(services.question_delete, question=instance)


@extend_schema(
    parameters=[OpenApiParameter("status", str, enum=Invitation.Status.values)],
    responses=SurveyInvitationSerializer(many=True),
)
class SurveyInvitationListView(SurveyApiMixin, generics.ListAPIView):
    """A survey's invitations, newest first. Editors and up: they show addresses."""

    serializer_class = SurveyInvitationSerializer
    read_role = Role.EDITOR

    def get_queryset(self) -> QuerySet[Invitation]:
        if getattr(self, "swagger_fake_view", False):
            return Invitation.objects.none()
        return selectors.invitation_list(
            survey=self.get_survey(self.kwargs["pk"]),
            status=query_choice(self.request, "status", Invitation.Status.values),
        )


class SurveyInvitationViewSet(SurveyApiMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """One invitation; an admin may resend it when its sending failed or is unknown."""

    serializer_class = SurveyInvitationSerializer
    read_role = Role.EDITOR
    write_role = Role.ADMIN

    def get_queryset(self) -> QuerySet[Invitation]:
        return self.in_store(
            Invitation.objects.filter(survey__organisation=self.tenant.organisation).select_related(
                "survey", "contact"
            ),
            "survey__store",
        )

    @extend_schema(request=None, responses=SurveyInvitationSerializer)
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, pk: str) -> Response:
        invitation = self.run(services.invitation_resend, invitation=self.get_object())
        return Response(SurveyInvitationSerializer(invitation).data)


class SurveyResponsesExportView(SurveyApiMixin, APIView):
    """Every submitted response with the contact's address, as CSV. Admins only; logged."""

    read_role = Role.ADMIN

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="One row per response, one column per question"
            )
        }
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        survey = self.get_survey(pk)
        content = self.run(services.survey_responses_export, survey=survey)
        response = HttpResponse(content, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="survey-{survey.pk}-responses.csv"'
        return response


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("store", int, description="Only contacts of this store"),
            OpenApiParameter("search", str, description="In address and name; exact key"),
        ]
    )
)
class ContactViewSet(SurveyApiMixin, viewsets.ModelViewSet):
    """A store's contacts (editors). The address identifies a contact within its store:
    creating one that exists updates it. DELETE erases the person's data (admins only)."""

    read_role = Role.EDITOR
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if self.action == "destroy":
            self.write_role = Role.ADMIN  # erasing a person's data is an admin's decision
        super().initial(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Contact]:
        listing, request = self.action == "list", self.request
        return self.in_store(
            selectors.contact_list(
                organisation=self.tenant.organisation,
                store_id=query_id(request, "store") if listing else None,
                search=query_text(request, "search") if listing else "",
            )
        )

    def get_serializer_class(self) -> Any:
        if self.action in ("update", "partial_update"):
            return ContactUpdateSerializer
        return ContactSerializer

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        return self.scope_fields(super().get_serializer(*args, **kwargs))

    @extend_schema(responses={201: ContactSerializer, 200: ContactSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact, created = self._upsert(**serializer.validated_data)
        return Response(
            ContactSerializer(contact).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        contact = self.get_object()
        serializer = self.get_serializer(contact, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        contact, _created = self._upsert(
            **{**serializer.validated_data, "store": contact.store, "email": contact.email}
        )
        return Response(ContactSerializer(contact).data)

    def _upsert(self, **data: Any) -> tuple[Contact, bool]:
        return services.contact_upsert(**data)

    def perform_destroy(self, instance: Contact) -> None:
        self.run(services.contact_erase, contact=instance)


class ContactExportView(SurveyApiMixin, APIView):
    """Everything stored about one person (a data-subject access request). Admins; logged."""

    read_role = Role.ADMIN

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, pk: int) -> Response:
        contact = (
            self.in_store(selectors.contact_list(organisation=self.tenant.organisation))
            .filter(pk=pk)
            .first()
        )
        if contact is None:
            raise Http404
        return Response(self.run(services.contact_export_audited, contact=contact))


class TriggerView(SurveyApiMixin, APIView):
    """An event of the store's customer (e.g. `delivered`) queues the invitations of every
    active survey it triggers, due after each survey's delay. Meant for a store's backend with
    its secret key; a repeated call for the same event creates nothing new (200, empty)."""

    @extend_schema(
        request=TriggerSerializer,
        responses={
            201: TriggerResultSerializer,
            200: OpenApiResponse(TriggerResultSerializer, description="Nothing new was queued"),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.scope_fields(TriggerSerializer(data=request.data))
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        store = self.tenant.store or fields.get("store")
        if store is None:
            raise serializers.ValidationError({"store": [_("Give the store.")]})
        invitations = services.event_trigger(
            store=store,
            event_name=fields["event"],
            occurred_at=fields["occurred_at"],
            customer_key=fields["customer_key"],
            email=fields["email"],
            name=fields["name"],
            language=fields["language"],
        )
        return Response(
            {"invitations": TriggeredInvitationSerializer(invitations, many=True).data},
            status=status.HTTP_201_CREATED if invitations else status.HTTP_200_OK,
        )


class MomentResultsView(SurveyApiMixin, APIView):
    """A store's survey results per moment of truth, in the journey's order."""

    @extend_schema(
        parameters=[
            OpenApiParameter("store", int, description="Required for members' sessions"),
            *PERIOD_PARAMETERS,
        ],
        responses={200: MomentResultsSerializer(many=True), 404: error_response(404)},
    )
    def get(self, request: Request) -> Response:
        store = self.tenant.store
        if store is None:
            store_id = query_id(request, "store")
            if store_id is None:
                raise serializers.ValidationError({"store": [_("Give the store's id.")]})
            store = self.stores().filter(pk=store_id).first()
            if store is None:
                raise Http404
        results = selectors.results_by_moment(store=store, **_period(request, store))
        return Response(MomentResultsSerializer(results, many=True).data)


class _StoreThemesView(SurveyApiMixin, APIView):
    def get_store(self, pk: Any) -> Store:
        store = self.stores().filter(pk=_int(pk)).first()
        if store is None:
            raise Http404
        return store


class CommentThemesView(_StoreThemesView):
    """The recurring words and two-word phrases of the free-text answers to the surveys of a
    store's stages, per language: how many answers use each, their share of the stage's
    answers in that language, the mean score of those answers on each scale, and up to three
    of them, newest first. As the last computation stored them (`computed_at`: every 10
    minutes when new answers came, nightly, and after an erasure); the examples are read
    now, so an erased contact's answer is never one. Never who wrote an answer. Members'
    sessions, or the store's own secret key. Without `stage` or `moment`, every stage."""

    @extend_schema(
        parameters=[CommentThemesQuerySerializer, OpenApiParameter("store_id", int, "path")],
        responses={200: CommentThemesSerializer, 404: error_response(404)},
    )
    def get(self, request: Request, store_id: int) -> Response:
        store = self.get_store(store_id)
        query = CommentThemesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        stage: tuple[str, str] | None = None
        if "stage" in data:
            found = journey_selectors.active_stage(store=store, stage_id=data["stage"])
            if found is None:
                raise serializers.ValidationError(
                    {"stage": [_("No stage of the store's active journey has this id.")]}
                )
            stage = (found.moment, "") if found.moment else ("", found.name)
        elif "moment" in data:
            stage = (data["moment"], "")
        themes = selectors.comment_themes(store=store, period=data["period"], stage=stage)
        return Response(CommentThemesSerializer({"store": store.pk, **themes}).data)


class CommentThemesComputeView(_StoreThemesView):
    """Compute the store's comment themes now (editors, or the store's secret key): 202 with
    the task, whose progress `GET /api/v1/tasks/{id}/` reads."""

    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("store_id", int, "path")],
        responses={
            202: inline_serializer(
                name="CommentThemesTaskStarted",
                fields={
                    "task": serializers.IntegerField(),
                    "task_url": serializers.CharField(),
                    "detail": serializers.CharField(),
                },
            ),
            404: error_response(404),
        },
    )
    def post(self, request: Request, store_id: int) -> Response:
        store = self.get_store(store_id)
        user = self.tenant.user
        task = tasks.comment_themes_start(
            store=store, user_id=user.pk if user is not None and user.is_authenticated else None
        )
        url = reverse("api:task-detail", kwargs={"pk": task.pk})
        detail = _("The comment themes are being computed.")
        return Response(
            {"task": task.pk, "task_url": url, "detail": detail},
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": url},
        )
