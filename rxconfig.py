"""Reflex configuration: the app is the `chatui` package; the port comes from $PORT (default 3000)."""

import os

import reflex as rx

config = rx.Config(
    app_name="chatui",
    telemetry_enabled=False,
    # No sitemap plugin: it would want a deploy URL, and chatui has a single page.
    disable_plugins=["reflex.plugins.sitemap.SitemapPlugin"],
)
