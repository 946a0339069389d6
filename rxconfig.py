"""Reflex configuration: the app is the `chatui` package (`make run` passes the port, default 3000)."""

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

config = rx.Config(
    app_name="chatui",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    # No sitemap plugin: it would want a deploy URL, and chatui has a single page.
    disable_plugins=[SitemapPlugin],
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(appearance="inherit", accent_color="indigo"))],
)
