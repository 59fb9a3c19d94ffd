"""The one list of public token URLs: reached by a secret token in the URL, without an
account or organisation (answer pages, share links, webhooks, account links).

Every other URL pattern that takes an object id must scope its lookup to the caller's
organisation; tests/config/test_tenancy.py walks all URL patterns and fails for a new one
that is neither scoped (a 404 for another organisation's object) nor listed here. Each entry
here is tested on its own.
"""

PUBLIC_TOKEN_URLS: dict[str, str] = {
    "accounts:verify-email": "signed, expiring email-verification token",
    "accounts:invitation-accept": "member-invitation token; only its SHA-256 is stored",
    "accounts:password-reset-confirm": "Django's password-reset token",
    "journeys:shared": "read-only journey share link; only its SHA-256 is stored",
    "survey-public:answer": "survey link token (HMAC of a stored nonce); only its hash is stored",
    "survey-public:thanks": "the same survey link token, after the answers are submitted",
    "survey-public:unsubscribe": "the same survey link token; a POST only unsubscribes its contact",
    "survey-public:missing": "the same survey link token, under a path that is no page: a 404 "
    "that names the store only for a valid token",
    "dashboards:digest-unsubscribe": "the weekly digest's subscription id, signed with "
    "SECRET_KEY (a salt of its own); a POST only stops that subscription",
    "shopify-webhook": "a store's random webhook id; each POST must carry the body's HMAC with "
    "the store's signing secret",
}
