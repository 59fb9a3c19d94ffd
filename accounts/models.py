"""Organisations, members and their roles, stores, API keys, invitations and the audit log."""

from __future__ import annotations

import zoneinfo
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("email_verified_at", timezone.now())
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("email"), unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    # The language of the pages and of this person's emails; blank follows the browser's.
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, blank=True, default=""
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    def __str__(self) -> str:
        return self.email

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name or self.email.split("@")[0]


class Role(models.TextChoices):
    """Roles in increasing power: each one can do everything the ones before it can."""

    VIEWER = "viewer", pgettext_lazy("role", "Viewer")
    EDITOR = "editor", pgettext_lazy("role", "Editor")
    ADMIN = "admin", pgettext_lazy("role", "Admin")
    OWNER = "owner", pgettext_lazy("role", "Owner")

    @classmethod
    def rank(cls, role: str) -> int:
        return [cls.VIEWER, cls.EDITOR, cls.ADMIN, cls.OWNER].index(cls(role))

    @classmethod
    def at_least(cls, role: str, required: str) -> bool:
        return cls.rank(role) >= cls.rank(required)


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The language of emails to addresses that have no account yet (invitations); set from
    # the creator's language, changed by admins on the members page.
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    # Set when an owner deletes the organisation; a background task then removes its data.
    deletion_requested_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "user"], name="one_membership_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organisation} ({self.role})"

    def has_role(self, required: str) -> bool:
        return Role.at_least(self.role, required)


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not an IANA time zone (e.g. Europe/Vilnius)."),
            params={"value": value},
        )


currency_validator = RegexValidator(
    r"^[A-Z]{3}$", _("Use a three-letter ISO 4217 currency code, e.g. EUR.")
)
domain_validator = RegexValidator(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    _("Enter a domain name such as shop.example.com (no https://, no path)."),
)


class Store(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="stores")
    name = models.CharField(_("name"), max_length=120)
    domain = models.CharField(_("domain"), max_length=253, validators=[domain_validator])
    currency = models.CharField(_("currency"), max_length=3, validators=[currency_validator])
    time_zone = models.CharField(_("time zone"), max_length=64, validators=[validate_time_zone])
    default_language = models.CharField(
        _("default language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    # Months of events kept (events/partitions.py drops older ones; an older event is refused);
    # None keeps everything, for a store that imports years of history.
    event_retention_months = models.PositiveSmallIntegerField(
        _("event retention (months)"),
        null=True,
        blank=True,
        default=25,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text=_("Events older than this are refused and removed. Empty: keep every event."),
    )
    # The store's defaults for its funnel and its repeat-purchase retention (the metrics API
    # uses them when a query gives none); a change is announced by
    # signals.store_metrics_settings_changed, so that the figures are computed again.
    funnel_window_days = models.PositiveSmallIntegerField(
        _("conversion window (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_(
            "How long after entering the funnel a customer may take to reach the next stages."
        ),
    )
    retention_days = models.PositiveSmallIntegerField(
        _("repeat-purchase window (days)"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(730)],
        help_text=_(
            "How many days after a first purchase a second one counts as a repeat purchase."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when an admin deletes the store: it is hidden at once, and a background task removes
    # its data in batches, then the row (services.store_purge).
    deletion_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            # A store being deleted frees its name for a new one at once.
            models.UniqueConstraint(
                fields=["organisation", "name"],
                condition=models.Q(deletion_requested_at__isnull=True),
                name="store_name_unique_in_org",
            )
        ]

    def __str__(self) -> str:
        return self.name


# The store's settings that the metrics read: editors may change them (the rest of a store is
# admins'), and a change has the store's figures computed again.
STORE_METRICS_FIELDS = ("funnel_window_days", "retention_days")

# What a store's settings page, its API and store_update set (the rest is the system's).
STORE_FIELDS = (
    "name",
    "domain",
    "currency",
    "time_zone",
    "default_language",
    "event_retention_months",
    *STORE_METRICS_FIELDS,
)


class ApiKey(models.Model):
    """A store's API key. Only a SHA-256 hash is kept; the full key is shown once."""

    class Kind(models.TextChoices):
        SECRET = "secret", _("Secret (server-to-server)")
        PUBLISHABLE = "publishable", _("Publishable (browser event ingestion only)")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="api_keys"
    )
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="api_keys")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=120)
    prefix = models.CharField(max_length=24, unique=True)
    key_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class MemberInvitation(models.Model):
    """An emailed invitation to join an organisation; only the token's hash is stored."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.email} → {self.organisation} ({self.role})"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()


class AuditLogEntry(models.Model):
    """Who did what to which object, and when. Rows are only ever added."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="audit_log"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text so that the entry still says who acted after a user or key is gone.
    actor_label = models.CharField(max_length=254)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisation", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"

    def details_display(self) -> list[tuple[str, str]]:
        """The details as (name, text) for the log page, by name: a change reads "old → new",
        a list its items joined, anything else as it is."""

        def text(value: object) -> str:
            if isinstance(value, dict) and set(value) == {"from", "to"}:
                return f"{text(value['from'])} → {text(value['to'])}"
            if isinstance(value, list | tuple):
                return ", ".join(text(item) for item in value)
            if value is None or value == "":
                return "—"
            return str(value)

        details = self.details if isinstance(self.details, dict) else {"": self.details}
        if set(details) == {"from", "to"}:  # the change of the object itself (a role, a status)
            return [("change", text(details))]
        # Alphabetical: the database (jsonb) keeps no order of its own worth showing.
        return [(str(name).replace("_", " "), text(details[name])) for name in sorted(details)]
