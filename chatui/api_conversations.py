"""HTTP routes for a user's own conversations: list and search, read, export.

`GET /api/conversations?q=...`, `GET /api/conversations/{id}` (the versioned JSON export) and
`GET /api/conversations/{id}/export?format=md|json`. The user is the one the authenticating proxy
names in CHATUI_USER_HEADER; without a configured header (a local single-user install) it is the
browser identity given in `X-Chatui-User` (shown in the sidebar). What must stay true: every read
is scoped to that user; someone else's conversation is "not found", exactly like a missing one.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from chatui.config import Settings
from chatui.errors import ChatUIError, InputError
from chatui.persistence import conversation_store, user_from_header

LOCAL_USER_HEADER = "x-chatui-user"


def conversation_routes(
    current_settings: Callable[[], Settings], error_response: Callable[[ChatUIError], Response]
) -> list[Route]:
    def user_of(request: Request, settings: Settings) -> str:
        headers = {k.lower(): v for k, v in request.headers.items()}
        user = user_from_header(headers, settings) or headers.get(LOCAL_USER_HEADER, "").strip()
        if not user:
            raise InputError(
                f"Say whose conversations: send the {LOCAL_USER_HEADER} header with your browser's id "
                "(shown in the sidebar), or set CHATUI_USER_HEADER behind a signing-in proxy.",
                code="no_user",
                http_status=401,
            )
        return user

    async def listing(request: Request) -> Response:
        try:
            settings = current_settings()
            found = await conversation_store(settings).list_conversations(
                user_of(request, settings), request.query_params.get("q") or None, limit=100
            )
        except ChatUIError as exc:
            return error_response(exc)
        return JSONResponse({"conversations": [
            {"id": c.id, "title": c.title, "updated_at": c.updated_at.isoformat()} for c in found
        ]})

    async def export(request: Request) -> Response:
        conversation_id = request.path_params["conversation_id"]
        fmt = request.query_params.get("format", "json")
        try:
            settings = current_settings()
            store, user = conversation_store(settings), user_of(request, settings)
            if fmt == "md":
                return PlainTextResponse(await store.export_markdown(user, conversation_id),
                                         media_type="text/markdown; charset=utf-8")
            if fmt != "json":
                raise InputError("`format` is md or json.", code="invalid_format")
            text = await store.export_json(user, conversation_id)
        except ChatUIError as exc:
            return error_response(exc)
        return Response(text, media_type="application/json")

    return [
        Route("/api/conversations", listing, methods=["GET"]),
        Route("/api/conversations/{conversation_id}", export, methods=["GET"]),
        Route("/api/conversations/{conversation_id}/export", export, methods=["GET"]),
    ]
