from __future__ import annotations

from rest_framework import serializers

from accounts.models import (
    STORE_FIELDS,
    ApiKey,
    AuditLogEntry,
    MemberInvitation,
    Membership,
    Role,
    Store,
    currency_validator,
    domain_validator,
)


class OrganisationSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    role = serializers.CharField(read_only=True)


class StoreSerializer(serializers.ModelSerializer):
    # Checked (after normalising case) by the service, with the model's validators.
    domain = serializers.CharField(max_length=253)
    currency = serializers.CharField(max_length=3)

    def validate_domain(self, value: str) -> str:
        value = value.strip().lower()
        domain_validator(value)
        return value

    def validate_currency(self, value: str) -> str:
        value = value.strip().upper()
        currency_validator(value)
        return value

    class Meta:
        model = Store
        fields = ["id", *STORE_FIELDS, "created_at"]
        read_only_fields = ["id", "created_at"]
        # Uniqueness within the organisation is checked by the service.
        validators: list = []


class ApiKeySerializer(serializers.ModelSerializer):
    store = serializers.PrimaryKeyRelatedField(queryset=Store.objects.none())

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "store",
            "kind",
            "name",
            "prefix",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at", "revoked_at"]


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The full key. Shown only this once.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]


class MemberSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    name = serializers.CharField(source="user.name", read_only=True)
    role = serializers.ChoiceField(choices=Role.choices)

    class Meta:
        model = Membership
        fields = ["id", "email", "name", "role", "created_at"]
        read_only_fields = ["id", "email", "name", "created_at"]


class InvitationSerializer(serializers.ModelSerializer):
    role = serializers.ChoiceField(choices=Role.choices)

    class Meta:
        model = MemberInvitation
        fields = ["id", "email", "role", "created_at", "expires_at"]
        read_only_fields = ["id", "created_at", "expires_at"]


class AuditLogEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditLogEntry
        fields = [
            "id",
            "created_at",
            "actor_label",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "details",
            "ip_address",
        ]
