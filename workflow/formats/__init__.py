"""Readers and writers of files: spreadsheets, calendars, exports, reports, the JSON dump, the store copy."""
