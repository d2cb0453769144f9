"""Reading exported files: the bytes of an upload to a table of text.

Pure Python (no models): every import of a file (the figures, a source's
records, the leads of a CRM) reads it here, so a file one import reads the
others read the same way.

- ``reading``: ``read_export`` (UTF-8 with or without a byte-order mark,
  UTF-16 with one, else Windows-1252; ``,``, ``;`` or a tab; a Salesforce
  report's footer dropped; rows numbered as in a spreadsheet).
"""

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
    "CsvTable",
    "Decoded",
    "RowError",
    "decode_export",
    "header_problems",
    "parse_table",
    "read_export",
    "rows_problem",
    "sniff_separator",
]
