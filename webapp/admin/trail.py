"""Admin pages for the audit trail and its CSV export (SPEC 4 `/admin/audit`)."""

from __future__ import annotations

from flask import (
    Response,
    render_template,
    request,
    stream_with_context,
)
from flask.typing import ResponseReturnValue
from wtforms import SelectChoice  # type: ignore[attr-defined]

from webapp.admin import bp
from webapp.admin.common import admin_only
from webapp.admin.forms import (
    AuditFilterForm,
)
from webapp.models import utcnow
from webapp.services import audit, audit_trail
from webapp.services.spreadsheets import check_export
from webapp.web.pagination import paginate, requested_page

AUDIT_PAGE_SIZE = 50


def _audit_filter_form() -> AuditFilterForm:
    form = AuditFilterForm(formdata=request.args)
    form.action.choices = [SelectChoice("", "Any action"), *audit.ACTIONS]  # type: ignore[list-item]
    form.outcome.choices = [SelectChoice("", "Any outcome"), *audit.OUTCOMES]  # type: ignore[list-item]
    return form


@bp.route("/audit", endpoint="audit")
@admin_only
def audit_page() -> ResponseReturnValue:
    form = _audit_filter_form()
    if not form.validate():
        return render_template("admin/audit.html", form=form, pagination=None, chosen=None), 400
    chosen = _chosen(form)
    if request.args.get("format") == "csv":
        return _audit_csv(chosen)
    page = requested_page(request.args)
    pagination = paginate(audit_trail.trail_query(chosen), page, AUDIT_PAGE_SIZE,
                          audit_trail.TrailLine.from_row)
    return render_template("admin/audit.html", form=form, pagination=pagination, chosen=chosen)


@bp.route("/audit.csv")
@admin_only
def audit_csv() -> ResponseReturnValue:
    form = _audit_filter_form()
    if not form.validate():
        return render_template("admin/audit.html", form=form, pagination=None, chosen=None), 400
    return _audit_csv(_chosen(form))


def _chosen(form: AuditFilterForm) -> audit_trail.AuditFilter:
    return audit_trail.AuditFilter(actor=form.actor.data or None, action=form.action.data or None,
                             outcome=form.outcome.data or None, since=form.since.data,
                             until=form.until.data)


def _audit_csv(chosen: audit_trail.AuditFilter) -> Response:
    audit.record("audit.exported", details={"filters": chosen.as_query()})
    check_export(audit_trail.trail_query(chosen))
    filename = f"audit-{utcnow().strftime('%Y%m%d-%H%M%S')}.csv"
    response = Response(stream_with_context(audit_trail.csv_lines(chosen)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
