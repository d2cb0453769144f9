"""Records: requests and incidents sent in by a team's tools (a helpdesk, a
status page), each upserted by (source, external id), and the monthly figures
computed from them — time to respond in business time, availability over a
month — on top of ``agreements.calendars``."""
