"""Import a team's lead log entries or closed customers from a CSV file.

The file
--------
- UTF-8 text (a byte-order mark, as Excel writes with “CSV UTF-8”, is fine;
  so is UTF-16 with one), values separated by commas, by semicolons as
  spreadsheets in many European locales write them, or by tabs. Quote values
  that contain the separator. The file is read as every import reads one
  (``agreements.imports``): a report's footer below two blank rows is left
  out.
- The first row names the columns, in any order, in any letter case. Required
  columns must be present; optional ones may be left out; other columns are
  refused (usually a typo).
- At most ``MAX_ROWS`` data rows (and ``MAX_BYTES`` bytes): split larger files.
- Dates are written ``YYYY-MM-DD``; numbers without thousands separators, with
  a dot for decimals. Every row must fall in an open month (see
  ``agreements.periods``) and pass the same checks as the forms.
- Row numbers in errors count the header as row 1, as a spreadsheet does.

``COLUMNS`` documents each column (a page lists them), ``template_csv(kind)``
gives a file to start from. ``parse_csv`` checks everything and writes nothing;
``import_commit`` writes all rows in one transaction, or none. Importing the
same file twice does not add its rows twice. ``decode_csv`` and
``rows_error`` read a file within this import's limits, which the records
import shares.
"""

from ...imports.reading import CsvTable, RowError
from ...imports.reading import parse_table as read_table  # the name callers know
from .columns import COLUMNS, MAX_BYTES, MAX_ROWS, Column, ImportKind, template_csv
from .csv_import import (
    ImportPreview,
    ImportResult,
    PreparedRow,
    decode_csv,
    import_commit,
    parse_csv,
    rows_error,
)

__all__ = [
    "COLUMNS",
    "MAX_BYTES",
    "MAX_ROWS",
    "Column",
    "CsvTable",
    "ImportKind",
    "ImportPreview",
    "ImportResult",
    "PreparedRow",
    "RowError",
    "decode_csv",
    "import_commit",
    "parse_csv",
    "read_table",
    "rows_error",
    "template_csv",
]
