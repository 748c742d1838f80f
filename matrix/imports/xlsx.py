"""Read the first sheet of an XLSX upload, after checking the archive so that no file can be a bomb.

An XLSX is a zip of XML: 200 KB can unpack to gigabytes of cells or one 400 MB string. Before
openpyxl touches the file we read the zip's directory (entry count, unpacked sizes, compression
ratio, the shared strings' size), then the first sheet's declared <dimension> and its real cell
count (a streamed byte scan, no parsing); while reading, rows and columns stop at their caps.
Python's zipfile never unpacks an entry past the size its directory declares, so the checked
sizes hold.
"""
import io
import re
import zipfile
import zlib

from flask_babel import gettext as _

from matrix.imports.tables import BadFile

MAX_ENTRIES = 1_000
MAX_UNPACKED = 200 * 1024 * 1024        # every entry together
MAX_SHEET_XML = 100 * 1024 * 1024       # the sheet read (50,000 rows of 20 columns is about 40 MB)
MAX_SHARED_STRINGS = 16 * 1024 * 1024   # openpyxl keeps every shared string in memory
MAX_OTHER_XML = 8 * 1024 * 1024         # styles, workbook, relationships, themes
MAX_RATIO = 100                         # unpacked / packed, for entries over 1 MB; real sheets pack 5-30x
RATIO_FROM = 1024 * 1024
MAX_CELLS = 1_000_000                   # cells of the sheet read, blank ones included (~4 s of openpyxl)
CELL_TEXT_MAX = 32_767                  # Excel's own limit of characters in a cell
# Bytes of text with no tag in between: a cell's 32,767 characters, 4 bytes each, some escaped.
MAX_TEXT_RUN = 6 * CELL_TEXT_MAX

_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s/>]")
_DIMENSION = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?dimension\s+ref=\"([A-Z]{1,3})(\d{1,7})(?::([A-Z]{1,3})(\d{1,7}))?\"")


def _refuse(reason: str) -> BadFile:
    return BadFile(_("The Excel file was refused: %(reason)s. Save the data alone in a new workbook "
                     "and upload that.", reason=reason))


def check_archive(data: bytes) -> zipfile.ZipFile:
    """The opened zip, after its directory says nothing in it is too big or packed too tightly."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise BadFile(_("The Excel file could not be opened (%(reason)s); save it again as .xlsx.",
                        reason=type(e).__name__)) from None
    if len(entries) > MAX_ENTRIES:
        raise _refuse(_("it holds more than %(n)d parts", n=MAX_ENTRIES))
    if sum(e.file_size for e in entries) > MAX_UNPACKED:
        raise _refuse(_("it unpacks to more than %(mb)d MB", mb=MAX_UNPACKED // 2**20))
    for entry in entries:
        name = entry.filename.lower()
        limit = (MAX_SHEET_XML if name.startswith("xl/worksheets/") else
                 MAX_SHARED_STRINGS if name.endswith("sharedstrings.xml") else MAX_OTHER_XML)
        if entry.file_size > limit:
            raise _refuse(_("its part %(part)s unpacks to more than %(mb)d MB", part=entry.filename[:80],
                            mb=limit // 2**20))
        if entry.file_size > RATIO_FROM and entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
            raise _refuse(_("its part %(part)s is packed %(ratio)d times, more than any real sheet",
                            part=entry.filename[:80], ratio=entry.file_size // max(entry.compress_size, 1)))
    return archive


def check_sheet(archive: zipfile.ZipFile, path: str) -> None:
    """Refuse a sheet whose declared size or real number of cells is over MAX_CELLS, before parsing it."""
    path = path.lstrip("/")
    cells, head, tail, run = 0, b"", b"", 0
    try:
        with archive.open(path) as stream:
            while chunk := stream.read(1 << 20):
                if len(head) < 4096:
                    head += chunk[:4096]
                    _check_dimension(head)
                window = tail + chunk
                cells += len(_CELL.findall(window)) - len(_CELL.findall(tail))
                tail = window[-64:]
                if cells > MAX_CELLS:
                    raise _refuse(_("its first sheet has more than %(n)d cells", n=MAX_CELLS))
                run = _text_run(chunk, run)
    except (KeyError, zipfile.BadZipFile, zlib.error, EOFError):
        raise BadFile(_("The Excel file could not be read (%(reason)s); save it again as .xlsx.",
                        reason="BadZipFile")) from None


def _text_run(chunk: bytes, run: int) -> int:
    """The length of text running on at the chunk's end; refuses a run longer than any cell can hold."""
    parts = chunk.split(b"<")
    longest = max(run + len(parts[0]), max(map(len, parts[1:]), default=0))
    if longest > MAX_TEXT_RUN:
        raise _refuse(_("its first sheet holds a text of more than %(n)d characters", n=CELL_TEXT_MAX))
    return run + len(chunk) if len(parts) == 1 else len(parts[-1])


def _check_dimension(head: bytes) -> None:
    match = _DIMENSION.search(head)
    if not match:
        return
    first_col, first_row, last_col, last_row = match.groups()
    if last_col is None:
        return
    width = _column_number(last_col) - _column_number(first_col) + 1
    height = int(last_row) - int(first_row) + 1
    if width * height > MAX_CELLS:
        raise _refuse(_("its first sheet declares %(rows)d rows × %(cols)d columns", rows=height, cols=width))


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def read_rows(data: bytes, *, max_columns: int):
    """(line, values) of the first sheet's rows, each cut at max_columns; the caller stops at its row cap."""
    from openpyxl import load_workbook

    archive = check_archive(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except BadFile:
        raise
    except Exception as e:  # a damaged workbook raises BadZipFile, KeyError, InvalidFileException ...
        raise BadFile(_("The Excel file could not be opened (%(reason)s); save it again as .xlsx.",
                        reason=type(e).__name__)) from None
    try:
        if not book.worksheets:
            raise BadFile(_("The workbook has no sheet."))
        sheet = book.worksheets[0]
        check_sheet(archive, sheet._worksheet_path)
        sheet.reset_dimensions()  # some writers record a wrong sheet size; read every row there is
        for line, values in enumerate(sheet.iter_rows(max_col=max_columns, values_only=True), start=1):
            for value in values:
                if isinstance(value, str) and len(value) > CELL_TEXT_MAX:
                    raise _refuse(_("a cell in row %(line)d holds more than %(n)d characters", line=line,
                                    n=CELL_TEXT_MAX))
            yield line, list(values)
    except BadFile:
        raise
    except Exception as e:
        raise BadFile(_("The Excel file could not be read (%(reason)s); save it again as .xlsx.",
                        reason=type(e).__name__)) from None
    finally:
        book.close()
