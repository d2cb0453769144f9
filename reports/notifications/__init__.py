"""Monthly emails: who gets what and when, what they say, and the ledger
that sends each one exactly once.

``schedule``: when each job is due, on the organisation's clock.
``recipients``: who gets which email (reads).
``content``: what each email says (reads), ``render``: templates to a message.
``ledger``: claiming, sending, retrying and failing one delivery.
``jobs``: the month-end close, reminders, alerts and the reconcile pass.
"""
