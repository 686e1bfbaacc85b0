"""Files of every kind notes arrive in, built in memory for the tests."""

from __future__ import annotations

import io
import zipfile

import docx
from fpdf import FPDF
from PIL import Image


def word_file() -> bytes:
    document = docx.Document()
    document.add_heading("Harbor Freightways: dispatch automation", level=1)
    document.add_paragraph("Client: Harbor Freightways, a regional logistics company.")
    document.add_paragraph("Interviewed every dispatcher", style="List Bullet")
    document.add_paragraph("Built the routing engine", style="List Bullet")
    table = document.add_table(rows=3, cols=3)
    for row, cells in zip(
        table.rows,
        [
            ("Metric", "Before", "After"),
            ("Planning time", "94 min", "31 min"),
            ("Late", "18%", "7%"),
        ],
        strict=True,
    ):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    document.add_paragraph("Rollout finished in week 10.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pdf_file(*, text: bool = True, password: str = "") -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    if text:
        pdf.multi_cell(0, 8, "Client: Harbor Freightways, a regional logistics company.")
        pdf.ln(4)
        with pdf.table() as table:
            for cells in [("Metric", "Before", "After"), ("Planning time", "94 min", "31 min")]:
                row = table.row()
                for cell in cells:
                    row.cell(cell)
        pdf.ln(4)
        pdf.multi_cell(0, 8, "Rollout finished in week 10.")
    else:
        picture = io.BytesIO()
        Image.new("RGB", (200, 80), "white").save(picture, format="PNG")
        pdf.image(picture, x=10, y=10, w=100)
    if password:
        pdf.set_encryption(owner_password="owner", user_password=password)
    return bytes(pdf.output())


def zip_with(name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(name, data)
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, format="PNG")
    return out.getvalue()
