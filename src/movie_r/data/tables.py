"""CSV files into frames of text columns: columnar first, row by row to name a bad row.

Arrow's CSV reader splits a file on all cores and keeps each column as one Arrow string
array, where the csv module builds a Python list per row and a Python string per cell (the
difference is the ingest row of `benchmarks/scale.py`). Arrow's errors name no row, though,
and a person fixing their file needs one; so when Arrow refuses a file, the row-by-row
reader reads it again and raises the `DataError` naming row and column. Both readers return
the same frame: one text column per role, indexed by spreadsheet row number (header = 1).
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd

from movie_r.data.columns import ColumnMap, map_columns
from movie_r.errors import DataError


def read_table(path: Path, roles: dict[str, tuple[str, ...]], required: tuple[str, ...]) -> tuple[pd.DataFrame, ColumnMap]:
    """Decode (UTF-8, gzip when `.gz`) and split a CSV file into a frame of its roles' columns.

    Columns are renamed to their role (`movieId` -> `id`) and the index holds spreadsheet
    row numbers. The header is checked before any row, so a file in another shape (another
    delimiter, other names) is refused for its columns, not for its first odd row.
    """
    header = _header(path)
    columns = map_columns(path, header, roles, required)
    frame = _columnar(path, len(header), columns)
    if frame is None:
        frame = _row_by_row(path, columns)
    frame.index = np.arange(2, len(frame) + 2)  # spreadsheet row numbers, header is row 1
    return frame, columns


def finite_floats(text: pd.Series) -> np.ndarray | None:
    """Every cell of a text column parsed as a finite float64 by Arrow, or None when any
    cell is not one (empty, a word, NaN); the caller's slower pandas parse then names it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        values = pc.cast(pc.utf8_trim_whitespace(pa.array(text, type=pa.large_string())), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    numbers = values.to_numpy(zero_copy_only=False)
    return numbers if values.null_count == 0 and np.isfinite(numbers).all() else None


def _opened(path: Path) -> io.BufferedIOBase:
    try:
        return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")  # type: ignore[return-value]
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected a CSV file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc}") from None


def _header(path: Path) -> list[str]:
    """The first row's names, read alone: the file's shape is judged before its rows."""
    try:
        with _opened(path) as handle:
            first = handle.readline(1 << 20)
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: cannot read: {exc}") from None
    text = _decoded(path, first)
    try:
        header = next(csv.reader(io.StringIO(text, newline=""), strict=True), None)
    except csv.Error as exc:
        raise DataError(f"{path}: row 1: {exc}") from None
    if not header:
        raise DataError(f"{path}: empty file, expected a header row")
    return [name.strip() for name in header]


def _columnar(path: Path, width: int, columns: ColumnMap) -> pd.DataFrame | None:
    """The roles' columns read by Arrow, or None when Arrow refuses the file (any reason)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    names = [f"c{i}" for i in range(width)]
    wanted = {role: names[position] for role, position in columns.positions.items()}
    try:
        table = pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pcsv.ParseOptions(newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                column_types={name: pa.large_string() for name in names},
                include_columns=list(wanted.values()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError, EOFError):
        return None
    return pd.DataFrame({role: pd.Series(table.column(name), dtype="str") for role, name in wanted.items()})


def _row_by_row(path: Path, columns: ColumnMap) -> pd.DataFrame:
    """The csv module's reading: slower, but it knows which row it is on when a row is wrong."""
    try:
        with _opened(path) as handle:
            raw = handle.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: cannot read: {exc}") from None
    reader = csv.reader(io.StringIO(_decoded(path, raw), newline=""), strict=True)
    header = next(reader)
    rows: list[list[str]] = []
    try:
        for record in reader:
            if not record:
                continue
            if len(record) != len(header):
                raise DataError(
                    f"{path}: row {len(rows) + 2}: {len(record)} fields where the header has {len(header)}"
                    f" (an unquoted comma in a title or genre list?)"
                )
            rows.append(record)
    except csv.Error as exc:
        raise DataError(f"{path}: row {len(rows) + 2}: malformed CSV: {exc}") from None
    frame = pd.DataFrame(rows, columns=range(len(header)), dtype=object)
    return frame[list(columns.positions.values())].set_axis(list(columns.positions), axis=1)


def _decoded(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8", errors="replace")
        lines = before.split("\n")
        header = next(csv.reader([lines[0]]), [])
        partial = next(csv.reader([lines[-1]]), [""])
        column = header[len(partial) - 1] if 0 < len(partial) <= len(header) else "?"
        raise DataError(
            f"{path}: row {len(lines)}, column {column}: not UTF-8 (byte 0x{raw[exc.start]:02x}); re-save the file as UTF-8"
        ) from None
