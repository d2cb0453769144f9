"""The agreement pages: reading (``pages``), the editor (``editor``) and the
lifecycle buttons (``actions``)."""
