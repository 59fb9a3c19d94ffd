"""Comment themes computed into stored results (surveys.CommentThemeResult): a store's
free-text answers counted into the recurring words and phrases of each stage and language
(surveys/comment_themes.py), over the last 90 days and over all time. Everything runs in
this process, on the answers in the database: no text is sent anywhere."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Max

from accounts.models import Store
from core import clock
from surveys.comment_themes import ThemeCounter, Vocabulary, terms
from surveys.models import CommentThemeResult
from surveys.selectors import comments_of_store

LOCK_NAMESPACE = 7_214_006  # pg_advisory_xact_lock(namespace, store): one swap a store
LAST_DAYS = 90  # the period "last 90 days": today and the 89 days before, in the store's zone

Period = CommentThemeResult.Period


def last_days_start(store: Store, now: datetime) -> datetime:
    """The start of the store's last LAST_DAYS days: midnight, in its time zone, of the day
    LAST_DAYS − 1 days before today (the dashboard's "last 90 days")."""
    zone = ZoneInfo(store.time_zone or "UTC")
    first = now.astimezone(zone).date() - timedelta(days=LAST_DAYS - 1)
    return datetime.combine(first, time.min, tzinfo=zone)


def comment_themes_compute(*, store_id: int) -> dict[str, int]:
    """Count the store's free-text answers saved until now into its themes, and replace its
    stored themes with them in one transaction (a reader sees the old ones or the new ones).
    Idempotent; a computation that finds a later one's results stored keeps those. Returns
    what it counted."""
    store = Store.objects.filter(pk=store_id, deletion_requested_at__isnull=True).first()
    if store is None:
        return {"comments": 0, "results": 0, "themes": 0}
    computed_at = clock.now()
    start = last_days_start(store, computed_at)
    counters: dict[tuple[str, str, str, str], ThemeCounter] = defaultdict(ThemeCounter)
    vocabulary = Vocabulary()
    comments = 0
    for (moment, custom_stage), comment in comments_of_store(store=store, before=computed_at):
        comments += 1
        found = terms(comment.text, comment.language, vocabulary)
        counters[(Period.ALL_TIME, moment, custom_stage, comment.language)].add(comment, found)
        if comment.answered_at >= start:
            counters[(Period.LAST_90, moment, custom_stage, comment.language)].add(comment, found)
    results = []
    for (period, moment, custom_stage, language), counter in counters.items():
        counted = counter.result()
        results.append(
            CommentThemeResult(
                store=store,
                period=period,
                moment=moment,
                custom_stage=custom_stage,
                language=language,
                start=start if period == Period.LAST_90 else None,
                computed_at=computed_at,
                answers=counted.answers,
                scores=counted.scores,
                themes=counted.themes,
            )
        )
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, store.pk])
        stored = CommentThemeResult.objects.filter(store=store)
        latest = stored.aggregate(at=Max("computed_at"))["at"]
        if latest is not None and latest > computed_at:
            # A computation that started later (after an erasure, say) has stored its results.
            return {"comments": comments, "results": 0, "themes": 0}
        stored.delete()
        CommentThemeResult.objects.bulk_create(results)
    return {
        "comments": comments,
        "results": len(results),
        "themes": sum(len(result.themes) for result in results),
    }
