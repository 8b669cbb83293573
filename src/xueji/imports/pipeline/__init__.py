"""Checking an import and writing it set-based, in one transaction.

New students are checked a chunk at a time (a block of a CSV's bytes, or a list of a
spreadsheet's rows), column by column, with the registration form's own rules
(xueji.students.validation.validate_student_columns, which the form runs on a batch of one); the
age-for-grade rule and the duplicate checks are student_register's. A chunk's valid rows come out
as COPY text, formatted by forked workers for a large file on PostgreSQL. The importing process
COPYs them into temporary tables, allocates J numbers, and once the file has been read finds the
duplicates within it and against the registry with two queries; only a file without a single
error is then written, by the students app with one INSERT ... SELECT per table in the caller's
transaction (the caller rolls back when the outcome has errors). Every error of the file is
reported at once. The importing process's memory does not grow with the file: the rows wait in
the database.

One module per job:
- `layout`: which column holds which field (the header against the template);
- `cells`: a cell's error in both languages, and the outcome that collects them;
- `chunk`, `checks`, `formatting`: a chunk of new students, checked column by column, its valid
  rows as the COPY text of the record's tables;
- `copy_text`: COPY's text format, and lines of it loaded into a table;
- `workers`: the chunks of a large file checked by forked processes;
- `staging`: the rows waiting in temporary tables, the duplicates, the write;
- `students`, `intake`, `updates`: the three purposes of an import.
"""

from xueji.imports.pipeline.cells import CellError, Outcome, cell_error
from xueji.imports.pipeline.checks import check_chunk
from xueji.imports.pipeline.chunk import CHUNK_ROWS, ChunkContext, ChunkResult, row_chunks
from xueji.imports.pipeline.intake import import_intake_rows
from xueji.imports.pipeline.layout import HeaderError, Layout
from xueji.imports.pipeline.staging import BATCH_ROWS, StudentWriter
from xueji.imports.pipeline.students import import_students_rows
from xueji.imports.pipeline.updates import import_updates_rows
from xueji.imports.pipeline.workers import PARALLEL_MIN_ROWS, check_workers, checked_chunks

__all__ = [
    "BATCH_ROWS",
    "CHUNK_ROWS",
    "PARALLEL_MIN_ROWS",
    "CellError",
    "ChunkContext",
    "ChunkResult",
    "HeaderError",
    "Layout",
    "Outcome",
    "StudentWriter",
    "cell_error",
    "check_chunk",
    "check_workers",
    "checked_chunks",
    "import_intake_rows",
    "import_students_rows",
    "import_updates_rows",
    "row_chunks",
]
