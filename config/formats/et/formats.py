"""Estonian overrides of Django's formats: Django's own set no NUMBER_GROUPING, so a forced
grouping did nothing (5000, not 5 000), and no date-time formats, so times fell back to the
English "N j, Y, P". Everything else is Django's."""

NUMBER_GROUPING = 3
DATETIME_FORMAT = "j. F Y G:i"
SHORT_DATETIME_FORMAT = "d.m.Y G:i"
YEAR_MONTH_FORMAT = "F Y"
