"""drop the audit trail's actor index

The audit page filters by a part of the actor, case-insensitively (ILIKE '%...%'), which no
B-tree index serves; the index only cost every audited mint one more page to write.

Create Date: 2026-11-28 00:10:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'


def upgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_actor'))


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_actor'), ['actor'], unique=False)
