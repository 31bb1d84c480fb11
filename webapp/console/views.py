"""Console pages."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from ..access import roles_required
from . import bp


@bp.route("/")
@roles_required("admin", "developer")
def generate() -> ResponseReturnValue:
    return render_template("console/generate.html")


@bp.route("/inspect")
@roles_required("admin", "developer", "support")
def inspect() -> ResponseReturnValue:
    return render_template("console/inspect.html")
