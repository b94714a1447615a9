"""Where the log goes and in what shape: standard error always; a file with --log-file; one JSON object
a line with --log-format json (time, level, logger, message), for a log collector. What is logged at INFO:
every recorded decision and run (`sovereign.decisions`: publish, approvals, overrides, revocations, people,
tokens, refresh and import) and, under `serve`, every request (`sovereign.access`)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from fiw.errors import UserError


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
                 "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(log_file: Path | None, log_format: str) -> None:
    formatter: logging.Formatter = (JsonFormatter() if log_format == "json"
                                    else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        try:
            handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
        except OSError as exc:
            raise UserError(f"--log-file {log_file}: {exc.strerror or exc}") from None
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "sovereign", False)]:  # one invocation's handlers at a time
        root.removeHandler(old)
        old.close()
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.sovereign = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(logging.INFO)
