"""typed emails only as keyed hashes

A text typed into the sign-in form's email box that is not a stored account's email may be a
password typed into the wrong box (SPEC 4). The failure counter now keys its rows by a keyed
hash (HMAC of SECRET_KEY) and the audit trail names such a text only by that hash. This
forgets the counter's rows written in clear (they matter for 15 minutes at most) and replaces,
in the trail's sign-in lines, every such text by the name the trail now gives it. Nothing to
undo on the way down: the clear texts are gone on purpose.

Create Date: 2026-11-29 23:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'


def upgrade() -> None:
    from webapp.services.accounts import recorded_email

    op.execute("DELETE FROM login_failures")
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, actor, target FROM audit_events WHERE action = 'auth.login' "
        "AND actor_kind = 'anonymous' AND actor NOT LIKE 'unknown-email:%' "
        "AND actor NOT IN (SELECT email FROM users)")).all()
    for row_id, actor, target in rows:
        bind.execute(sa.text("UPDATE audit_events SET actor = :actor, target = :target "
                             "WHERE id = :id"),
                     {"id": row_id, "actor": recorded_email(actor, None),
                      "target": recorded_email(target, None) if target == actor else target})


def downgrade() -> None:
    pass
