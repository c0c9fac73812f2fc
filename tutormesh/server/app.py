"""The FastAPI app: routers per resource, one error shape, limits, the agent lifecycle, the chat page.

Run it with `tutormesh serve`, or `uvicorn tutormesh.server.app:create_app --factory`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

import anyio.to_thread
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import FileResponse, HTMLResponse

from tutormesh.core import telemetry
from tutormesh.core.db import sessionmaker_for
from tutormesh.core.settings import Settings, get_settings
from tutormesh.core.stores.accounts import AccountStore
from tutormesh.server import errors
from tutormesh.server.deps import AccessCache, Services
from tutormesh.server.lifecycle import Lifecycle
from tutormesh.server.middleware import AccessLog, BodyLimit, CleanText, IpRateLimit
from tutormesh.server.observability import RequestMetrics, TraceContext
from tutormesh.server.ratelimit import RateLimiter
from tutormesh.server.routes import metrics_router, v1
from tutormesh.server.security import signing_secret

if TYPE_CHECKING:
    from tutormesh.graphs.runtime import Tutor

STATIC = Path(__file__).resolve().parent / "static"
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
REDOC_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; "
             "font-src 'self' data:; frame-ancestors 'none'")
log = logging.getLogger("tutormesh.server")


def configure_logging() -> None:
    """Send TutorMesh's INFO logs (ids only, never names or message text) to stderr, once."""
    logger = logging.getLogger("tutormesh")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s trace=%(trace_id)s %(message)s"))
        handler.addFilter(telemetry.TraceIdFilter())
        logger.addHandler(handler)


def build_services(settings: Settings) -> Services:
    """Prepare the database (migrations, curriculum) and build the stores a request uses."""
    from tutormesh.tools.store import get_store

    learner = get_store(settings)
    accounts = AccountStore(sessionmaker_for(settings), learner.router)
    return Services(settings=settings, accounts=accounts, learner=learner, limits=RateLimiter(settings),
                    lifecycle=Lifecycle(accounts, learner, settings),
                    access=AccessCache(settings.auth_cache_seconds))


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the stores and the checkpointed tutor; run the idle sweep; close everything at exit."""
    settings: Settings = app.state.settings
    signing_secret(settings)  # fail at start, not at first login, when production has no secret
    services = await anyio.to_thread.run_sync(build_services, settings)
    open_tutor = app.state.tutor_factory
    if open_tutor is None:
        from tutormesh.graphs.runtime import open_tutor
    with open_tutor(settings) as tutor:
        services.tutor = tutor
        services.lifecycle.state_loader = tutor.state
        app.state.services = services
        sweeper = asyncio.create_task(services.lifecycle.run_sweeper())
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await services.limits.close()


def create_app(settings: Settings | None = None, *,
               tutor_factory: Callable[[Settings], AbstractContextManager[Tutor]] | None = None) -> FastAPI:
    """Build the API app; the stores and the tutor (`open_tutor` unless given) open when it starts."""
    settings = settings or get_settings()
    configure_logging()
    app = FastAPI(title="TutorMesh API", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Student chat with a personal learning agent; teacher and admin views.")
    app.state.settings = settings
    app.state.tutor_factory = tutor_factory
    errors.install(app)
    app.include_router(v1)
    app.include_router(metrics_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)

    @app.get("/console", include_in_schema=False)
    async def console_page() -> FileResponse:
        return FileResponse(STATIC / "console.html", headers=PAGE_HEADERS)

    # Swagger UI and ReDoc from vendored files: the defaults load from a CDN, blank offline.
    @app.get("/docs", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="TutorMesh API",
                                   swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
                                   swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
                                   swagger_favicon_url="/static/favicon.svg")

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        page = get_redoc_html(openapi_url="/openapi.json", title="TutorMesh API", with_google_fonts=False,
                              redoc_js_url="/static/vendor/redoc/redoc.standalone.js",
                              redoc_favicon_url="/static/favicon.svg")
        # ReDoc's footer logo points at its CDN: images stay local, so the page makes no outside request.
        page.headers["Content-Security-Policy"] = REDOC_CSP
        return page

    # Outermost first at request time: log, then cap the body, then the per-IP limit, then clean text.
    app.add_middleware(CleanText)
    app.add_middleware(IpRateLimit)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(AccessLog)
    app.add_middleware(TraceContext)
    app.add_middleware(RequestMetrics)
    telemetry.instrument_app(app)
    return app
