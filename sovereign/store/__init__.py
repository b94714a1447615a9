"""The SQLite store: the only place that writes SQL.

`schema` (tables, migrations, opening and closing connections), `reads` (rows and frames for every
surface) and `writes` (inside a caller's transaction). Importing it loads neither sqlite-utils nor
polars, so desk lookups stay fast.
"""

from sovereign.store import reads, schema, writes
from sovereign.store.schema import (
    MIGRATIONS, SCORE_COLUMNS, Watcher, connect_readonly, now, open_db, path_of, reader, writer,
)
from sovereign.store.writes import Run, recorded_run

__all__ = ["MIGRATIONS", "SCORE_COLUMNS", "Run", "Watcher", "connect_readonly", "now", "open_db", "path_of", "reader", "reads",
           "recorded_run", "schema", "writer", "writes"]
