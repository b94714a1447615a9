"""What stands in front of every route: a body limit read before the body is, security headers on every
response, and errors that carry neither file paths nor the request they answer."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fiw.errors import NotFound, Unavailable, UserError
from sovereign.settings import Settings

log = logging.getLogger("sovereign.api")
RETRY_AFTER = 30  # seconds a client is asked to wait after a 503

HEADERS = [
    (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                                 b"img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
                                 b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]


class Guard:
    """Pure ASGI: refuses a body over `max_body` (413) from its Content-Length before reading it, or as soon as
    a body without one grows past it; adds the security headers to every HTTP response."""

    def __init__(self, app: ASGIApp, max_body: int, counts: dict[tuple[str, int], int]):
        self.app, self.max_body, self.counts = app, max_body, counts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await self.refuse(send)
            return
        seen, too_large = 0, False

        async def limited() -> Message:
            """Past the limit the app is told the body ended; whatever it answers becomes the 413."""
            nonlocal seen, too_large
            if too_large:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    too_large = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def secured(message: Message) -> None:
            if too_large:
                if message["type"] == "http.response.start":
                    await self.refuse(send)
                return
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
                key = (scope.get("method", ""), int(message["status"]))
                self.counts[key] = self.counts.get(key, 0) + 1
            await send(message)

        await self.app(scope, limited, secured)

    async def refuse(self, send: Send) -> None:
        body = f'{{"detail":"the request is larger than {self.max_body} bytes"}}'.encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"connection", b"close"), *HEADERS]})
        await send({"type": "http.response.body", "body": body})


def install(app: FastAPI, settings: Settings) -> None:
    hidden = {str(settings.db): "<database>", str(settings.policy_path): "<policy>",
              str(settings.db.parent): "<data folder>"}

    def scrub(text: str) -> str:
        """Operators' file paths stay on the server."""
        for path, word in hidden.items():
            text = text.replace(path, word)
        return text

    @app.exception_handler(UserError)
    async def user_error(_: Request, exc: UserError) -> JSONResponse:
        """One line: 413 for an upload too heavy to read, 503 (try again later) when the service is busy or the
        database cannot be read or written now, 404 for nothing of that name, 409 for an approval the same person
        already gave for the same date, 400 otherwise."""
        from sovereign.people import AlreadyApproved
        from sovereign.sandbox import TooHeavy

        status = (413 if isinstance(exc, TooHeavy) else 503 if isinstance(exc, Unavailable)
                  else 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, AlreadyApproved) else 400)
        headers = {"Retry-After": str(RETRY_AFTER)} if status == 503 else None
        return JSONResponse({"detail": scrub(str(exc))}, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        """Which field and why, never the submitted values echoed back."""
        errors: list[dict[str, Any]] = [{"loc": e.get("loc"), "msg": e.get("msg"), "type": e.get("type")}
                                        for e in exc.errors()[:20]]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """Starlette's own answer, except that a 405 names every method the path answers, not just those of
        the first route that matched it (GET and POST on one path are two routes)."""
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            methods = {m.upper() for path, item in app.openapi().get("paths", {}).items()
                       if compile_path(path)[0].match(request.url.path) for m in item}
            headers["Allow"] = ", ".join(sorted(methods)) or headers.get("Allow", "")
        return await http_exception_handler(request, StarletteHTTPException(exc.status_code, exc.detail, headers))

    @app.exception_handler(Exception)
    async def crashed(_: Request, exc: Exception) -> JSONResponse:
        """A fault of ours: one line, no traceback, and the security headers, which the outermost error handler
        (outside the Guard) would otherwise send without. The traceback goes to the server's log."""
        log.error("unhandled %s", exc.__class__.__name__, exc_info=exc)
        return JSONResponse({"detail": "internal error; the server's log has the details"}, status_code=500,
                            headers={k.decode(): v.decode() for k, v in HEADERS})

    app.state.request_counts = {}
    app.add_middleware(Guard, max_body=settings.max_body, counts=app.state.request_counts)
