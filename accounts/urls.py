from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/signup/done/", views.signup_done, name="signup-done"),
    path("accounts/verify/<str:token>/", views.verify_email, name="verify-email"),
    path("accounts/verify-resend/", views.resend_verification, name="verify-resend"),
    path("accounts/login/", views.LogInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password-reset/",
        views.ThrottledPasswordResetView.as_view(),
        name="password-reset",
    ),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password-reset-done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html",
            success_url=reverse_lazy("accounts:password-reset-complete"),
        ),
        name="password-reset-confirm",
    ),
    path(
        "accounts/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password-reset-complete",
    ),
    path("accounts/language/", views.language_set, name="language-set"),
    path("organisations/new/", views.organisation_create, name="organisation-create"),
    path("organisations/language/", views.organisation_language, name="organisation-language"),
    path("organisations/switch/", views.organisation_switch, name="organisation-switch"),
    path("organisations/leave/", views.organisation_leave, name="organisation-leave"),
    path("organisations/delete/", views.organisation_delete, name="organisation-delete"),
    path("stores/", views.store_list, name="store-list"),
    path("stores/new/", views.store_create, name="store-create"),
    path("stores/switch/", views.store_switch, name="store-switch"),
    path("stores/<int:pk>/edit/", views.store_edit, name="store-edit"),
    path("stores/<int:pk>/delete/", views.store_delete, name="store-delete"),
    path("stores/<int:pk>/keys/", views.store_keys, name="store-keys"),
    path("api-keys/<int:pk>/revoke/", views.api_key_revoke, name="api-key-revoke"),
    path("members/", views.member_list, name="member-list"),
    path("members/invite/", views.member_invite, name="member-invite"),
    path("members/<int:pk>/role/", views.member_role, name="member-role"),
    path("members/<int:pk>/remove/", views.member_remove, name="member-remove"),
    path("invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation-revoke"),
    path("join/<str:token>/", views.invitation_accept, name="invitation-accept"),
    path("audit-log/", views.audit_log, name="audit-log"),
]
