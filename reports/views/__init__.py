"""The scorecard pages: one agreement's scorecard and its exports
(``scorecards``), the team page (``teams``), the VP dashboard
(``dashboard``) and breaches (``breaches``)."""
