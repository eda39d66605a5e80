"""Business hours per source: a weekly schedule in a time zone, holidays and exceptions."""
