"""English overrides of Django's formats: Django's "en" is American (02/10/2026, 4 p.m.), which
a reader in Europe, this product's audience, takes for 2 October. The English pages keep ISO
dates and a 24-hour clock, as they always had; numbers are Django's (5,000.5)."""

SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
