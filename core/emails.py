"""What every bulk email of the product carries (survey invitations, the weekly digest)."""

from __future__ import annotations


def bulk_headers(unsubscribe_url: str) -> dict[str, str]:
    """A one-click unsubscribe link that mail providers offer beside the message (RFC 8058:
    their POST carries `List-Unsubscribe=One-Click`), and the mark of a message sent by a
    machine, which keeps out-of-office replies away (RFC 3834)."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Auto-Submitted": "auto-generated",
    }
