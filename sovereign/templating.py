"""One way to render our HTML: every template escaped (whatever its file is called: `select_autoescape()` left
`tables.html.j2` unescaped), and the Content-Security-Policy a standalone file carries in a meta tag, since a
file opened from disk or mail has no server to send the header."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jinja2 import Environment

STANDALONE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
                  "form-action 'none'")


def environment() -> Environment:
    from jinja2 import Environment, PackageLoader

    env = Environment(loader=PackageLoader("sovereign", "templates"), autoescape=True)
    env.globals["standalone_csp"] = STANDALONE_CSP
    return env
