"""The local gateway: one port for everything a browser or phone needs.

* `/api/...`      -> the Chalice app (`chalice local`), path prefix stripped
* `/config.json`  -> the web app's runtime configuration (the same file AWS serves)
* everything else -> the web app (`frontend/dist` once built, else `frontend/`),
                     with unknown paths falling back to index.html (client routing)

It plays the parts AWS supplies in front of the app, so the frontend has one code
path: later issues add hosted login, storage reads/writes and realtime here.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web
from aiohttp.http_exceptions import BadHttpMessage, LineTooLong
from aiohttp.web_protocol import RequestHandler

from local import hosted_login, realtime, storage

log = logging.getLogger("drink_assistant.gateway")

ROOT = Path(__file__).resolve().parent.parent
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}

API_UPSTREAM: web.AppKey[str] = web.AppKey("api_upstream", str)
FRONTEND_DIR: web.AppKey[Path] = web.AppKey("frontend_dir", Path)
HTTP: web.AppKey[ClientSession] = web.AppKey("http", ClientSession)
RUNTIME_CONFIG: web.AppKey[dict[str, Any]] = web.AppKey("runtime_config", dict)


def frontend_root() -> Path:
    dist = ROOT / "frontend" / "dist"
    return dist if (dist / "index.html").exists() else ROOT / "frontend"


# The bodies API Gateway itself sends (authorizer refusals, unknown routes), reshaped to
# the API's {"Code", "Message"} as infra/api-merge.json's GatewayResponses do in AWS.
GATEWAY_RESPONSES = {
    401: b'{"Code": "UnauthorizedError", "Message": "Unauthorized"}',
    403: b'{"Code": "ForbiddenError", "Message": "Not allowed for this token"}',
}


# Limits like API Gateway's (10 MB payload; 8 KB URL): a refusal is a 4xx {"Code", "Message"}
# as every other refusal, never the HTTP server's plain text.
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_REQUEST_LINE = 8192  # the request line: method, URL (with query string), version
MAX_HEADER_FIELD = 8190  # one header line; distinct from MAX_REQUEST_LINE to tell them apart


def refusal(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"Code": code, "Message": message}, status=status)


def parse_refusal(exc: BaseException | None) -> tuple[int, str, str]:
    """What to answer for a request the HTTP parser refused (before any handler ran)."""
    if isinstance(exc, LineTooLong):
        if len(exc.args) > 1 and exc.args[1] == MAX_REQUEST_LINE:
            return 414, "URITooLongError", f"the request line is longer than {MAX_REQUEST_LINE} bytes"
        return 431, "RequestHeaderFieldsTooLargeError", f"a header is longer than {MAX_HEADER_FIELD} bytes"
    if isinstance(exc, BadHttpMessage) and "too many headers" in str(exc).lower():
        return 431, "RequestHeaderFieldsTooLargeError", "too many headers"
    return 400, "BadRequestError", "malformed HTTP request"


class ContractRequestHandler(RequestHandler):
    """aiohttp's connection handler, answering requests its parser refuses with JSON."""

    __slots__ = ()

    def handle_error(
        self,
        request: Any,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status != 400 or not isinstance(exc, BadHttpMessage) or request.writer.output_size > 0:
            return super().handle_error(request, status, exc, message)
        status, code, text = parse_refusal(exc)
        log.info("request refused by the HTTP parser: %s %s", status, code)
        response = refusal(status, code, text)
        response.force_close()
        return response


class ContractServer(web.Server):
    __slots__ = ()

    def __call__(self) -> RequestHandler:
        return ContractRequestHandler(self, loop=self._loop, **self._kwargs)


class GatewayRunner(web.AppRunner):
    """An AppRunner whose connections answer HTTP-level refusals in the API's shape."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = ContractServer  # same layout (no new slots): only __call__ differs
        return server


@web.middleware
async def contract_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge:
        return refusal(413, "RequestEntityTooLargeError", f"the request body is larger than {MAX_BODY_BYTES} bytes")


def gateway_response_body(status: int, headers: dict[str, str], payload: bytes) -> bytes:
    from_gateway = any(k.lower() == "x-amzn-errortype" for k in headers)
    if from_gateway and status in GATEWAY_RESPONSES and b'"Code"' not in payload:
        for key in [k for k in headers if k.lower() == "content-type"]:
            del headers[key]
        headers["Content-Type"] = "application/json"
        return GATEWAY_RESPONSES[status]
    return payload


async def proxy_api(request: web.Request) -> web.StreamResponse:
    tail = request.match_info.get("tail", "")
    url = f"{request.app[API_UPSTREAM]}/{tail}"
    if request.query_string:
        url += f"?{request.query_string}"
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
    body = await request.read()  # over MAX_BODY_BYTES: a 413 (contract_errors)
    # Forward what the client sent: no Content-Type, User-Agent, ... made up by aiohttp's
    # client (a bodiless POST would go out as application/octet-stream, which Chalice refuses).
    skip = [h for h in ("Content-Type", "User-Agent", "Accept", "Accept-Encoding") if h not in request.headers]
    try:
        async with request.app[HTTP].request(
            request.method, url, headers=headers, data=body or None, allow_redirects=False, skip_auto_headers=skip
        ) as upstream:
            payload = await upstream.read()
            out_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
            payload = gateway_response_body(upstream.status, out_headers, payload)
            return web.Response(status=upstream.status, body=payload, headers=out_headers)
    except OSError as exc:
        log.warning("api upstream unreachable: %s", exc)
        return web.json_response({"Code": "BadGateway", "Message": "the API is not reachable"}, status=502)


async def runtime_config(request: web.Request) -> web.Response:
    return web.json_response(request.app[RUNTIME_CONFIG], headers={"Cache-Control": "no-store"})


# The PWA's two files: a service worker is always revalidated (as CloudFront's no-cache
# would), and the manifest has its own media type (mimetypes does not know .webmanifest).
SPECIAL_FILES = {
    "sw.js": {"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-cache"},
    "manifest.webmanifest": {"Content-Type": "application/manifest+json", "Cache-Control": "no-cache"},
}


async def serve_frontend(request: web.Request) -> web.StreamResponse:
    root = request.app[FRONTEND_DIR].resolve()
    relative = request.match_info.get("path", "").lstrip("/")
    candidate = (root / relative).resolve()
    if candidate.is_relative_to(root) and candidate.is_file():
        return web.FileResponse(candidate, headers=SPECIAL_FILES.get(relative))
    if "." in Path(relative).name:
        # A missing asset is a 404, not the app shell.
        raise web.HTTPNotFound()
    return web.FileResponse(root / "index.html", headers={"Cache-Control": "no-cache"})


def build_app(
    *,
    api_upstream: str,
    frontend_dir: Path | None = None,
    runtime: dict[str, Any] | None = None,
    auth: dict[str, Any] | None = None,
) -> web.Application:
    app = web.Application(
        client_max_size=MAX_BODY_BYTES,
        middlewares=[contract_errors],
        handler_args={"max_line_size": MAX_REQUEST_LINE, "max_field_size": MAX_HEADER_FIELD},
    )
    app[API_UPSTREAM] = api_upstream.rstrip("/")
    app[FRONTEND_DIR] = frontend_dir or frontend_root()
    app[RUNTIME_CONFIG] = runtime or {"stage": "local", "apiUrl": "/api", "apiKey": ""}

    async def client_session(app: web.Application) -> Any:
        app[HTTP] = ClientSession(timeout=ClientTimeout(total=60), auto_decompress=False)
        yield
        await app[HTTP].close()

    app.cleanup_ctx.append(client_session)
    app.router.add_route("*", "/api", proxy_api)
    app.router.add_route("*", "/api/{tail:.*}", proxy_api)
    app.router.add_get("/config.json", runtime_config)
    if auth is not None:  # hosted login (local/hosted_login.py); the web app reads `auth` from /config.json
        app[RUNTIME_CONFIG] = {**app[RUNTIME_CONFIG], "auth": hosted_login.register(app, **auth)}
    # AppSync Events stand-in (local/realtime.py): WebSocket /event/realtime, signed HTTP publish /event
    app[RUNTIME_CONFIG] = {**app[RUNTIME_CONFIG], "realtime": realtime.register(app)}
    storage.register(app)  # S3 stand-in (local/storage.py): signed POST /storage uploads, GET /images reads
    app.router.add_get("/{path:.*}", serve_frontend)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="drink-assistant local gateway")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--api-upstream", default="http://127.0.0.1:8001")
    parser.add_argument("--auth-issuer", default=os.environ.get("AUTH_ISSUER", ""))
    parser.add_argument("--auth-client-id", default=os.environ.get("AUTH_CLIENT_ID", hosted_login.DEFAULT_CLIENT_ID))
    parser.add_argument("--auth-state-dir", type=Path, default=hosted_login.DEFAULT_STATE_DIR)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="gateway %(levelname)s %(message)s")
    auth = {
        "issuer": args.auth_issuer or f"http://127.0.0.1:{args.port}",
        "client_id": args.auth_client_id,
        "state_dir": args.auth_state_dir,
    }
    asyncio.run(serve(build_app(api_upstream=args.api_upstream, auth=auth), args.host, args.port))


async def serve(app: web.Application, host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM, then shut down cleanly (exit code 0)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # No access log: the API logs every request it serves (status, duration, correlation
    # id); the gateway logs what goes wrong (an unreachable API, refused requests).
    runner = GatewayRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        log.info("serving on %s:%s", host, port)
        await stop.wait()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    main()
