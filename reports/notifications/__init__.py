"""Monthly emails and event notifications: who gets what and when, what they
say, and the ledger that sends each one exactly once.

``schedule``: when each job is due, on the organisation's clock.
``recipients``: who gets which email (reads).
``content``: what each email says (reads), ``render``: templates to a message.
``ledger``: claiming, sending, retrying and failing one delivery.
``jobs``: the month-end close, reminders, alerts, daily summaries and the
reconcile pass.
``events``: one notification per event and person, emailed at once or in a
daily summary; ``notices``: who hears of each event and what it says;
``inbox``: the notifications in the portal.
"""
