"""XLSX files built by hand (a zip of XML parts), as an attacker would, for tests/test_xlsx_bombs.py."""
import io, zipfile

CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
      '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
      '<Default Extension="xml" ContentType="application/xml"/>'
      '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
      '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
      '{extra}</Types>')
RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
WB = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
      'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
WB_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
           '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
           '{extra}</Relationships>')
SS_REL = '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
SS_CT = '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'

def book(sheet_parts, shared=None, dimension=None):
    """A one-sheet workbook; the sheet's rows and the one shared string come as iterables of bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", CT.format(extra=SS_CT if shared is not None else ""))
        z.writestr("_rels/.rels", RELS)
        z.writestr("xl/workbook.xml", WB)
        z.writestr("xl/_rels/workbook.xml.rels", WB_RELS.format(extra=SS_REL if shared is not None else ""))
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            if dimension:
                f.write(f'<dimension ref="{dimension}"/>'.encode())
            f.write(b"<sheetData>")
            for part in sheet_parts:
                f.write(part)
            f.write(b"</sheetData></worksheet>")
        if shared is not None:
            with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
                f.write(b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>')
                for part in shared:
                    f.write(part)
                f.write(b"</t></si></sst>")
    return out.getvalue()

def col(n: int) -> str:
    """Column letters of a 0-based index: 0 -> A, 16383 -> XFD."""
    s = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s

def many_cells(rows=2000, cols=2000, dimension=True, value=b"<v>1</v>"):
    """rows x cols cells (4 M by default) that pack to about 120 KB."""
    row = b"<row>" + (b"<c>" + value + b"</c>") * cols + b"</row>"
    return book((row for _ in range(rows)), dimension=f"A1:{col(cols-1)}{rows}" if dimension else None)

def huge_string(mb=400):
    """One cell showing a shared string of `mb` MB: about 400 KB packed."""
    chunk = b"a" * (1 << 20)
    return book([b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>'], shared=(chunk for _ in range(mb)))


def rows(*cells_per_row, dimension=None):
    """A plain sheet: each argument is one row's list of (row number, [inline text, ...])."""
    def parts():
        for number, texts in cells_per_row:
            cells = "".join(f'<c r="{col(i)}{number}" t="inlineStr"><is><t>{t}</t></is></c>' for i, t in enumerate(texts))
            yield f'<row r="{number}">{cells}</row>'.encode()
    return book(parts(), dimension=dimension)


def shared_text(text: str):
    """A header row and one data cell showing a shared string."""
    return book([b'<row r="1"><c r="A1" t="inlineStr"><is><t>code</t></is></c></row>',
                 b'<row r="2"><c r="A2" t="s"><v>0</v></c></row>'], shared=[text.encode()])
