"""The two journey templates, in the export format so that one code path creates both.

Each marks the key moments of truth of the domain brief (the first product-page visit, the
moment after adding to cart, the parcel's arrival, the follow-up) and maps the typical event
names to their stages.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


def _tp(
    name: str,
    channel: str,
    events: list[str],
    *,
    mot: bool = False,
    emotion: int = 0,
    pain: str = "",
    opportunity: str = "",
) -> dict[str, Any]:
    return {
        "name": name,
        "channel": channel,
        "is_moment_of_truth": mot,
        "emotion": emotion,
        "pain_points": pain,
        "opportunities": opportunity,
        "owner": None,
        "event_names": events,
    }


SHOPPER = {
    "name": "Online shopper",
    "description": "Buys for the household online, compares before buying, reads reviews.",
    "goals": "Find the right product at a fair price; know when it arrives.",
    "frustrations": "Slow pages, hidden delivery costs, no news about the parcel.",
}

LZMOT = {
    "name": "Realises a need",
    "moment": "LZMOT",
    "customer_goal": "Notice a need and a brand that could meet it.",
    "description": "Ads, social posts and brand emails meet the person before they search.",
    "touchpoints": [
        _tp(
            "Social media ad",
            "ad",
            ["ad_click"],
            emotion=0,
            opportunity="Test creatives that show the product in use.",
        ),
        _tp("Influencer or social post", "social", ["social_click"], emotion=1),
        _tp(
            "Newsletter",
            "email",
            ["email_click"],
            emotion=0,
            pain="Too many promotional emails lead to unsubscribes.",
        ),
    ],
}
ZMOT = {
    "name": "Researches",
    "moment": "ZMOT",
    "customer_goal": "Compare options and trust what others say.",
    "description": "Most shoppers research before buying; reviews weigh most.",
    "touchpoints": [
        _tp("Search results", "search", ["search"], emotion=0),
        _tp(
            "Reviews on review sites",
            "review_site",
            ["review_read"],
            mot=True,
            emotion=1,
            pain="Few or old reviews make the shopper hesitate.",
            opportunity="Ask recent buyers for reviews (UMOT feeds the next ZMOT).",
        ),
        _tp("Price and product comparison", "marketplace", ["comparison_view"], emotion=0),
    ],
}
FMOT = {
    "name": "First impression",
    "moment": "FMOT",
    "customer_goal": "Decide in seconds whether to stay and look closer.",
    "description": "The first 3–7 seconds with the site or the product: stay or leave?",
    "touchpoints": [
        _tp(
            "Landing page",
            "web",
            ["page_view"],
            emotion=0,
            pain="Slow loading and cluttered pages raise the bounce rate.",
        ),
        _tp(
            "First product-page visit",
            "web",
            ["product_view"],
            mot=True,
            emotion=1,
            pain="Missing sizes, prices or delivery times.",
            opportunity="Clear photos, price with delivery, stock and delivery date.",
        ),
    ],
}
SMOT = {
    "name": "Buys and uses",
    "moment": "SMOT",
    "customer_goal": "Buy without friction, then enjoy the product.",
    "description": "The purchase and the first experience of the product.",
    "touchpoints": [
        _tp(
            "After adding to cart",
            "web",
            ["add_to_cart"],
            mot=True,
            emotion=1,
            pain="Surprise costs in the cart lead to abandoned carts.",
            opportunity="Show the full price and delivery options right after adding.",
        ),
        _tp(
            "Checkout",
            "web",
            ["checkout_start"],
            emotion=0,
            pain="Forced account creation and long forms.",
        ),
        _tp("Order confirmation", "email", ["purchase"], emotion=1),
        _tp(
            "Using the product",
            "other",
            [],
            emotion=1,
            opportunity="A short how-to email a few days after delivery.",
        ),
    ],
}
TMOT = {
    "name": "Delivery",
    "moment": "TMOT",
    "customer_goal": "Know when the parcel comes; get help if something is wrong.",
    "description": "The gap between purchase and arrival: shipping news, tracking, support.",
    "touchpoints": [
        _tp("Shipped email with tracking link", "email", ["shipped"], emotion=0),
        _tp("Out for delivery email", "email", ["out_for_delivery"], emotion=1),
        _tp(
            "Parcel arrival",
            "delivery",
            ["delivered"],
            mot=True,
            emotion=2,
            pain="Late or damaged parcels.",
            opportunity="Careful packaging and an honest delivery date.",
        ),
        _tp(
            "Support contact",
            "chat",
            ["support_contact", "return_requested"],
            emotion=-1,
            pain="Slow answers about late parcels or returns.",
        ),
    ],
}
UMOT = {
    "name": "Shares and returns",
    "moment": "UMOT",
    "customer_goal": "Tell others about the experience and decide whether to buy again.",
    "description": "Reviews, referrals and the repeat purchase; advocacy feeds the next ZMOT.",
    "touchpoints": [
        _tp(
            "Follow-up email asking for a review",
            "email",
            [],
            mot=True,
            emotion=1,
            opportunity="Ask a week after delivery, in the buyer's language.",
        ),
        _tp("Review posted", "review_site", ["review_posted"], emotion=1),
        _tp("Referral", "social", ["referral"], emotion=1),
        _tp("Loyalty offer and repeat purchase", "email", ["repeat_purchase"], emotion=1),
    ],
}


def _journey(name: str, description: str, stages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "format": "momentmap.journey",
        "format_version": 1,
        "journey": {
            "name": name,
            "description": description,
            "store": None,
            "personas": [SHOPPER],
            "stages": stages,
        },
    }


TEMPLATES: dict[str, dict[str, Any]] = {
    "five-moments": {
        "label": _("Five moments (LZMOT → UMOT, no TMOT)"),
        "description": _(
            "The classic model: from realising a need to advocacy, without a delivery stage."
        ),
        "data": _journey(
            "Five moments of truth",
            "LZMOT → ZMOT → FMOT → SMOT → UMOT, as in the classic moment-of-truth model.",
            [LZMOT, ZMOT, FMOT, SMOT, UMOT],
        ),
    },
    "ecommerce-delivery": {
        "label": _("E-commerce with delivery (ZMOT → UMOT with TMOT)"),
        "description": _(
            "For online stores: research, first impression, purchase, delivery and follow-up."
        ),
        "data": _journey(
            "E-commerce journey with delivery",
            "ZMOT → FMOT → SMOT → TMOT → UMOT: the online store's journey with delivery.",
            [ZMOT, FMOT, SMOT, TMOT, UMOT],
        ),
    },
}
