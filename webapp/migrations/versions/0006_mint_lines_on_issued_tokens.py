"""a mint's audit line on its issued-token row: one row per mint instead of two

Each issued-token row now says which door minted it (`via`) and from which address
(`address`), which is what its `token.minted` audit line held beside the row's own columns;
the audit trail reads those lines from here (services.audit_trail). Rows recorded before this
revision keep NULL in both: their mint lines stay in audit_events, where they were written.
The trail's index on action becomes one on (action, at), which its pages read in that order.
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'


def upgrade() -> None:
    with op.batch_alter_table('issued_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('via', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('address', sa.String(length=64), nullable=True))
    # The trail filtered on one action, newest first, without sorting every line of it.
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_action_at', ['action', 'at'], unique=False)
        batch_op.drop_index('ix_audit_events_action')


def downgrade() -> None:
    # Each mint line goes back into audit_events first, as the mint wrote it before this
    # revision: 0005's trail reads only that table, and must still show every mint.
    stamp = sa.DateTime(timezone=True)
    issued = sa.table('issued_tokens', sa.column('id'), sa.column('fingerprint'),
                      sa.column('key_label'), sa.column('claims', sa.JSON),
                      sa.column('issued_at', stamp), sa.column('expires_at', stamp),
                      sa.column('issuer'), sa.column('via'), sa.column('address'))
    events = sa.table('audit_events', sa.column('at', stamp), sa.column('actor'),
                      sa.column('actor_kind'), sa.column('action'), sa.column('target'),
                      sa.column('outcome'), sa.column('address'), sa.column('details', sa.JSON))
    connection = op.get_bind()
    rows = connection.execute(sa.select(issued).where(issued.c.via.is_not(None))
                              .order_by(issued.c.id)).mappings().all()
    if rows:
        connection.execute(sa.insert(events), [{
            'at': row['issued_at'],
            'actor': row['issuer'],
            'actor_kind': ('cli' if row['issuer'] == 'cli' else
                           'client' if row['issuer'].startswith('client ') else 'person'),
            'action': 'token.minted',
            'target': row['key_label'],
            'outcome': 'success',
            'address': row['address'],
            'details': {'via': row['via'], 'key': row['key_label'], 'claims': row['claims'],
                        'fingerprint': row['fingerprint'],
                        'expiresAt': _iso(row['expires_at'])},
        } for row in rows])
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_action', ['action'], unique=False)
        batch_op.drop_index('ix_audit_events_action_at')
    with op.batch_alter_table('issued_tokens', schema=None) as batch_op:
        batch_op.drop_column('address')
        batch_op.drop_column('via')


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:  # SQLite keeps no offset: UTC by contract
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')
