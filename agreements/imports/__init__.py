"""Reading exported files: the bytes of an upload to a table of text, and
explicit formats for the dates and numbers in its columns.

Pure Python (no models): every import of a file (the figures, a source's
records, the leads of a CRM) reads it here, so a file one import reads the
others read the same way.

- ``reading``: ``read_export`` (UTF-8 with or without a byte-order mark,
  UTF-16 with one, else Windows-1252; ``,``, ``;`` or a tab; a Salesforce
  report's footer dropped; rows numbered as in a spreadsheet).
- ``moments``: ``date_formats_for`` a column, ``parse_moment`` a value.
- ``decimals``: ``number_styles_for`` a column, ``parse_number`` a value.
- ``headers``: ``match_headers`` against an alias table (HubSpot's and
  Salesforce's names of a lead's fields); ``value_label``, HubSpot's
  lifecycle stages and lead statuses by their labels.
"""

from .decimals import NUMBER_STYLES, NumberStyle, number_styles_for, parse_number
from .headers import (
    HUBSPOT_LEADS,
    LEAD_FIELDS,
    PRESET_LABELS,
    PRESETS,
    SALESFORCE_LEADS,
    header_key,
    match_headers,
    preset_for,
)
from .moments import DATE_FORMATS, DateFormat, date_formats_for, parse_moment
from .reading import (
    CsvTable,
    Decoded,
    RowError,
    decode_export,
    header_problems,
    parse_table,
    read_export,
    rows_problem,
    sniff_separator,
)

__all__ = [
    "DATE_FORMATS",
    "HUBSPOT_LEADS",
    "LEAD_FIELDS",
    "NUMBER_STYLES",
    "PRESETS",
    "PRESET_LABELS",
    "SALESFORCE_LEADS",
    "CsvTable",
    "DateFormat",
    "Decoded",
    "NumberStyle",
    "RowError",
    "date_formats_for",
    "decode_export",
    "header_key",
    "header_problems",
    "match_headers",
    "number_styles_for",
    "parse_moment",
    "parse_number",
    "parse_table",
    "preset_for",
    "read_export",
    "rows_problem",
    "sniff_separator",
]
