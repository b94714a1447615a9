"""The SQLite store: the only place that writes SQL.

`schema` (tables, migrations, opening and closing connections), `reads` (rows and frames for every
surface) and `writes` (inside a caller's transaction; imported by those who write). Importing the package
loads neither sqlite-utils nor polars, so desk lookups stay fast.
"""

from sovereign.store import reads, schema
from sovereign.store.schema import (
    MIGRATIONS,
    SCORE_COLUMNS,
    Watcher,
    connect_readonly,
    now,
    open_db,
    path_of,
    reader,
    writer,
)

__all__ = ["MIGRATIONS", "SCORE_COLUMNS", "Watcher", "connect_readonly", "now", "open_db", "path_of", "reader", "reads",
           "schema", "writer"]
