"""One settings object, built once from options and the environment, handed to the CLI, API and scheduler.

Options given on the command line win over `SOVEREIGN_*` variables, which win over the defaults here.
Stdlib only: `check` builds one on its fast path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fiw.errors import UserError
from sovereign import __version__, keys, paths

if TYPE_CHECKING:
    from scrapers.http import PoliteClient
    from sovereign.policy import Policy

DEFAULT_BASE_URL = "https://freedomhouse.org"
DEFAULT_AGENT = f"sovereign/{__version__} (sovereign bond exclusion list; contact: sovereign-ops@example.org)"
ENVIRONMENT = {
    "db": "SOVEREIGN_DB", "policy_path": "SOVEREIGN_POLICY", "base_url": "SOVEREIGN_BASE_URL",
    "user_agent": "SOVEREIGN_USER_AGENT", "reports": "SOVEREIGN_REPORTS", "webhook": "SOVEREIGN_WEBHOOK",
    "notify_command": "SOVEREIGN_NOTIFY_COMMAND", "max_body": "SOVEREIGN_MAX_BODY", "api_docs": "SOVEREIGN_API_DOCS",
    "public_url": "SOVEREIGN_PUBLIC_URL", "smtp": "SOVEREIGN_SMTP", "mail_to": "SOVEREIGN_MAIL_TO",
    "mail_from": "SOVEREIGN_MAIL_FROM", "scores_path": "SOVEREIGN_SCORES_PATH",
    "access_log": "SOVEREIGN_ACCESS_LOG", "key_file": "SOVEREIGN_KEY_FILE", "trusted_proxies": "SOVEREIGN_TRUSTED_PROXIES",
    "user_header": "SOVEREIGN_USER_HEADER", "session_secret": "SOVEREIGN_SESSION_SECRET",
}


@dataclass(frozen=True)
class Settings:
    """What one invocation runs with. Frozen: a command narrows it with `but`, never by changing it in place."""

    db: Path = field(default_factory=paths.default_db)
    policy_path: Path = paths.POLICY
    base_url: str = DEFAULT_BASE_URL
    scores_path: str = "/countries/freedom-world/scores"  # FH's other scores page, /country/scores, is the fallback
    user_agent: str = DEFAULT_AGENT
    min_interval: float = 1.0
    timeout: float = 30.0
    reports: Path = field(default_factory=lambda: paths.default_db().parent / "reports")
    key_file: Path = field(default_factory=lambda: keys.default_file(paths.default_db()))  # outside the database
    webhook: str | None = None
    notify_command: str | None = None
    public_url: str | None = None      # where the service is reached, for links in notices
    smtp: str | None = None            # smtp://host:port (smtps:// for TLS) for notices by e-mail
    mail_to: str | None = None
    mail_from: str = "sovereign@localhost"
    max_body: int = 5_000_000          # bytes an API request may carry; more is refused (413) before it is read
    api_docs: bool = False             # /docs loads Swagger UI from a CDN: off unless asked for
    access_log: bool = True            # `serve` logs who asked what (sovereign.access, INFO); off: SOVEREIGN_ACCESS_LOG=off
    trusted_proxies: str = ""          # the console trusts `user_header` only from these addresses (comma-separated, CIDR)
    user_header: str = "X-Forwarded-Email"  # the signed-in user's e-mail, as oauth2-proxy sets it
    session_secret: str | None = None  # signs console session cookies; unset: a new secret each start (all sign out)

    @classmethod
    def load(cls, **options: Any) -> Settings:
        """Options that are None fall back to the environment, then to the defaults."""
        values: dict[str, Any] = {}
        for name, variable in ENVIRONMENT.items():
            if os.environ.get(variable):
                values[name] = os.environ[variable]
        values |= {k: v for k, v in options.items() if v is not None}
        for name in ("db", "policy_path", "reports", "key_file"):
            if name in values:
                values[name] = Path(values[name])
        if isinstance(values.get("max_body"), str):
            try:
                values["max_body"] = int(values["max_body"])
            except ValueError:
                raise UserError(f"SOVEREIGN_MAX_BODY={values['max_body']!r}: expected a whole number of bytes") from None
        if isinstance(values.get("api_docs"), str):
            values["api_docs"] = values["api_docs"].strip().lower() in ("1", "true", "yes", "on")
        if isinstance(values.get("access_log"), str):
            flag = values["access_log"].strip().lower()
            if flag not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
                raise UserError(f"SOVEREIGN_ACCESS_LOG={values['access_log']!r}: expected on or off")
            values["access_log"] = flag in ("1", "true", "yes", "on")
        if "db" in values and values["db"].is_dir():
            raise UserError(f"{values['db']} is a folder, not a database file: give the file (--db or SOVEREIGN_DB), "
                            f"such as {values['db'] / 'sovereign.db'}")
        if "reports" not in values and "db" in values:
            values["reports"] = values["db"].parent / "reports"
        if "key_file" not in values and "db" in values:
            values["key_file"] = keys.default_file(values["db"])
        return cls(**values)

    def but(self, **changes: Any) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @cached_property
    def policy(self) -> Policy:
        from sovereign.policy import load_policy
        from sovereign.resolve import country_code

        return load_policy(self.policy_path, country_code)

    @cached_property
    def actor(self) -> str:
        """Who is recorded as doing what this process does: the operating-system user."""
        import getpass

        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return f"uid {os.getuid()}"

    def check(self) -> None:
        """Load the policy now, so a broken file stops a run or the service before anything happens."""
        _ = self.policy

    def client(self) -> PoliteClient:
        """The polite HTTP client every path that fetches from FH uses, with our User-Agent."""
        from scrapers.http import PoliteClient

        return PoliteClient(user_agent=self.user_agent, min_interval=self.min_interval,
                            timeout=(min(self.timeout, 10.0), self.timeout), deadline=self.timeout * 4)
