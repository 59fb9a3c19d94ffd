"""The settings of `make demo`, with beat queueing due survey invitations every 2 seconds
instead of every minute, so that tests/config/test_demo.py does not wait a minute for it."""

from config.settings import *  # noqa: F403
from config.settings import CELERY_BEAT_SCHEDULE

CELERY_BEAT_SCHEDULE = {
    **CELERY_BEAT_SCHEDULE,
    "dispatch-survey-invitations": {
        **CELERY_BEAT_SCHEDULE["dispatch-survey-invitations"],
        "schedule": 2,
    },
}
