"""Working calendars (weekly hours, holidays, a time zone), business time
between two instants, and availability over a month: the ground service
levels measured from records stand on."""
