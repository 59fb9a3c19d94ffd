"""Lithuanian overrides of Django's formats: CLDR groups thousands with a no-break space
(5 000), where Django's own has "." (5.000), which a Lithuanian reader takes for a decimal
point in some contexts. Everything else is Django's."""

THOUSAND_SEPARATOR = "\xa0"
