"""The dashboard's web app (Starlette): server-rendered pages (jinja2) and server-sent
events that carry a running deploy's phases to an open page.

Read-only by construction: every route is a GET, and the backend is only read. The live
view reads the app's state record every ``poll`` seconds (the deploy may run in another
process, or on another machine against the same cluster) and sends it when it changed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import anyio
import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from pyvela._app.flowtext import COLOURS, NO_PHASE
from pyvela._backends.protocol import Backend
from pyvela._ui.drawing import drawing
from pyvela._ui.queries import app_detail, list_apps, snapshot
from pyvela.errors import PyvelaError

HERE = Path(__file__).parent
#: Sent at least this often on an idle stream, so a reader behind a proxy keeps it open.
KEEPALIVE_SECONDS = 15.0


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["tojson_compact"] = lambda v: json.dumps(v, sort_keys=True, default=str)
    return env


def make_app(
    backend: Backend,
    *,
    namespace: str | None = None,
    poll: float = 1.0,
    allowed_hosts: Sequence[str] = ("127.0.0.1", "localhost", "[::1]", "::1"),
) -> Starlette:
    """The dashboard of ``backend`` (its apps in ``namespace``, else in every namespace).

    ``allowed_hosts``: the Host headers served; a page on another site that resolves its own
    name to 127.0.0.1 (DNS rebinding) is refused, since it is not one of them.
    """
    env = _environment()
    colours = {phase: list(c) for phase, c in COLOURS.items()} | {"": list(NO_PHASE)}

    def page(template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
        body = env.get_template(template).render(target=backend.description, **values)
        return HTMLResponse(body, status_code=status_code)

    async def read(fn: Callable[..., Any], *args: Any) -> Any:
        return await run_in_threadpool(fn, *args)

    async def index(request: Request) -> Response:
        try:
            apps = await read(list_apps, backend, namespace)
        except PyvelaError as exc:
            return page("error.html.j2", 502, title="cannot list the apps", error=str(exc))
        return page("index.html.j2", apps=apps, namespace=namespace)

    async def app_page(request: Request) -> Response:
        ns, name = request.path_params["namespace"], request.path_params["app"]
        try:
            detail = await read(app_detail, backend, ns, name)
        except PyvelaError as exc:
            return page("error.html.j2", 404, title=f"app {name} in {ns}", error=str(exc))
        graph = detail["graph"]
        try:
            drawn = drawing(graph) if graph is not None else ""
            draw_error = ""
        except PyvelaError as exc:  # Graphviz failed: the rest of the page still helps
            drawn, draw_error = "", str(exc)
        return page(
            "app.html.j2",
            app=name,
            namespace=ns,
            drawn=drawn,
            draw_error=draw_error,
            colours=colours,
            poll=poll,
            **detail,
        )

    async def state(request: Request) -> Response:
        ns, name = request.path_params["namespace"], request.path_params["app"]
        try:
            return JSONResponse(await read(snapshot, backend, ns, name))
        except PyvelaError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)

    async def events(request: Request) -> Response:
        ns, name = request.path_params["namespace"], request.path_params["app"]

        async def stream() -> AsyncIterator[str]:
            yield "retry: 2000\n\n"
            last, idle = "", 0.0
            while not await request.is_disconnected():
                try:
                    data, kind = json.dumps(await read(snapshot, backend, ns, name), sort_keys=True), "state"
                except PyvelaError as exc:
                    data, kind = json.dumps({"error": str(exc)}), "failure"
                if data != last:
                    last, idle = data, 0.0
                    yield f"event: {kind}\ndata: {data}\n\n"
                elif idle >= KEEPALIVE_SECONDS:
                    idle = 0.0
                    yield ": keep-alive\n\n"
                await anyio.sleep(poll)
                idle += poll

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    routes = [
        Route("/", index),
        Route("/apps/{namespace}/{app}", app_page),
        Route("/apps/{namespace}/{app}/state.json", state),
        Route("/apps/{namespace}/{app}/events", events),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = (
        [Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))] if allowed_hosts else []
    )
    return Starlette(routes=routes, middleware=middleware)
