"""Dates and times as operators read them in the admin: ISO order, seconds, the time zone (UTC).
Django's English formats say "Nov. 27, 2026, 4:37 a.m.": minutes only, no zone."""

DATETIME_FORMAT = "Y-m-d H:i:s T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i:s T"
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i:s"
