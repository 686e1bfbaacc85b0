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


def plain_tables(lines: tuple[str, ...]) -> list[list[list[str]]]:
    """Each table as rows of cells, header first; every row has as many cells as the header
    (a header with no label cell gets an empty first cell)."""
    tables: list[list[list[str]]] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if "|" in line or not (_BEFORE_COL.search(line) and _AFTER_COL.search(line)):
            index += 1
            continue
        table = _table_at(lines, index)
        if table is None:
            index += 1
            continue
        tables.append(table)
        index += len(table)
    return tables


def _table_at(lines: tuple[str, ...], index: int) -> list[list[str]] | None:
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
        return [header, *rows]
    return None


def _is_header_cell(cell: str) -> bool:
    """A column title: a few words, no figures ("Vorher (before)", "Metric")."""
    return len(cell.split()) <= 5 and not any(char.isdigit() for char in cell)


def _split(line: str, separator: str) -> list[str]:
    stripped = line.strip()
    if not stripped:
        return []
    if separator == "  ":
        return [cell.strip() for cell in re.split(r"\s{2,}", stripped)]
    if separator not in stripped:
        return []
    return [cell.strip() for cell in stripped.split(separator)]
