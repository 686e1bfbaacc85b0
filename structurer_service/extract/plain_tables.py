"""Tables written without pipes: aligned columns, tab-, semicolon- or comma-separated rows.

A table starts at a header line that names a before column and an after column ("Metric  Before
After", "KPI;Vorher (before);Nachher (after)", "  BASELINE   RESULT") and runs while the lines
below split into as many cells with the same separator.
"""

from __future__ import annotations

import re

_BEFORE_COL = re.compile(
    r"\b(?:before|baseline|pre|old|was|previous|prior|start|then|vorher|antes|avant)\b", re.I
)
_AFTER_COL = re.compile(
    r"\b(?:after|now|post|current|new|result|today|end|nachher|después|despues|après)\b", re.I
)
_SEPARATORS = ("\t", ";", ",", "  ")
_ALIGNED = re.compile(r"\s{2,}")


def plain_tables(lines: tuple[str, ...]) -> list[list[list[str]]]:
    """Each table as rows of cells, header first; every row has as many cells as the header
    (a header with no label cell gets an empty first cell)."""
    return [table for _, _, table in _tables(lines)]


def delimited_rows(lines: tuple[str, ...]) -> dict[int, str]:
    """The index of each line that is a row (or the header) of a table, and the separator of its
    cells ("\t", ";", "," or "  " for aligned columns). A reader that must agree with
    ``plain_tables`` reads these lines cell by cell: the comma of "CSAT,78%,92%" or
    "time (hours),11,1.5" separates two figures, it is not a decimal comma."""
    return {
        start + offset: separator
        for start, separator, table in _tables(lines)
        for offset in range(len(table))
    }


def _tables(lines: tuple[str, ...]) -> list[tuple[int, str, list[list[str]]]]:
    """(index of the header line, separator, table) of each table."""
    tables: list[tuple[int, str, list[list[str]]]] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if "|" in line or not (_BEFORE_COL.search(line) and _AFTER_COL.search(line)):
            index += 1
            continue
        found = _table_at(lines, index)
        if found is None:
            index += 1
            continue
        tables.append((index, *found))
        index += len(found[1])
    return tables


def _table_at(lines: tuple[str, ...], index: int) -> tuple[str, list[list[str]]] | None:
    for separator in _SEPARATORS:
        header = _split(lines[index], separator)
        if len(header) < 2 or not all(_is_header_cell(cell) for cell in header):
            continue
        rows = []
        for line in lines[index + 1 : index + 60]:
            cells = _split(line, separator)
            if len(cells) == len(header) + 1 and not lines[index][:1].strip() == "":
                break
            if len(cells) not in (len(header), len(header) + 1) or not any(
                char.isdigit() for char in line
            ):
                break
            rows.append(cells)
        if not rows:
            continue
        width = max(len(row) for row in rows)
        if width == len(header) + 1:
            header = ["", *header]  # aligned columns under a header with no label cell
        if any(len(row) != width for row in rows):
            continue
        return separator, [header, *rows]
    return None


def _is_header_cell(cell: str) -> bool:
    """A column title: a few words, no figures ("Vorher (before)", "Metric")."""
    return len(cell.split()) <= 5 and not any(char.isdigit() for char in cell)


def cell_spans(line: str, separator: str) -> list[tuple[int, int]]:
    """Where each cell of ``line`` is, (start, end) without its surrounding spaces, when the line
    is split at ``separator`` ("  " splits at any run of two or more spaces)."""
    start, end = len(line) - len(line.lstrip()), len(line.rstrip())
    pattern = _ALIGNED if separator == "  " else re.compile(re.escape(separator))
    spans = []
    for match in pattern.finditer(line, start, end):
        spans.append(_trimmed(line, start, match.start()))
        start = match.end()
    spans.append(_trimmed(line, start, end))
    return spans


def _trimmed(line: str, start: int, end: int) -> tuple[int, int]:
    cell = line[start:end]
    return start + len(cell) - len(cell.lstrip()), start + len(cell.rstrip())


def _split(line: str, separator: str) -> list[str]:
    if not line.strip() or (separator != "  " and separator not in line.strip()):
        return []
    return [line[start:end] for start, end in cell_spans(line, separator)]
