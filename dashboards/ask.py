"""Starting the task that asks the customers who dropped off before a stage (the list and its
outlook: dashboards/dropped.py)."""

from __future__ import annotations

from accounts.models import Store
from core import services as core_services
from core.models import Task
from dashboards import tasks
from dashboards.periods import Period
from surveys.models import Survey

ASK_KIND = "dashboards.ask_dropped"


def dropped_ask_start(
    *, store: Store, stage_id: int, survey: Survey, period: Period, user_id: int | None
) -> Task:
    return core_services.task_queue(
        organisation_id=store.organisation_id,
        store_id=store.pk,
        created_by_id=user_id,
        kind=ASK_KIND,
        send=lambda task: tasks.dropped_ask.delay(
            task_id=task.pk,
            store_id=store.pk,
            stage_id=stage_id,
            survey_id=survey.pk,
            start=period.start.isoformat(),
            end=period.end.isoformat(),
            window_days=store.funnel_window_days,
            user_id=user_id,
        ),
    )
