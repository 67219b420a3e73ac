"""Scheduling and the campaign loop (issue 14): slot booking rules, vaccination registration,
notifications (Communication + SMS) and next-day reminders.

FHIR R4 appointment.html, slot.html, schedule.html, communication.html. The booking rule
(rules.py) runs on every Appointment and Slot write, whatever the door; the flows
(booking.py, registration.py) are called by the operations in operations/scheduling.py.
"""
