"""How stored values reach a page: the ``visible`` filter (SPEC 4).

Names, emails and ids stored before control and format characters were refused (a room id
holding U+202E shows reversed) are shown with those characters escaped: ``\\u202e``.
"""

from __future__ import annotations

from flask import Flask

from webapp.characters import visible


def init_app(app: Flask) -> None:
    """Offer ``| visible`` to every template."""
    app.add_template_filter(visible, "visible")
