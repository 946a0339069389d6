import reflex as rx
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def health(request):
    return JSONResponse({"ok": True})

api = Starlette(routes=[Route("/api/health", health)])

def index():
    return rx.text("hello")

app = rx.App(api_transformer=api)
app.add_page(index)
