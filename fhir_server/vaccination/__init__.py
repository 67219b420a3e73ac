"""The vaccination campaign's own logic: dose schedules, the next-dose forecast, outreach."""
