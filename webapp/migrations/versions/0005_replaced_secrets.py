"""replaced key secrets, kept 90 days for the diagnosis

When an admin replaces a key's secret, the old one is kept (encrypted like the current ones,
never shown) with when and by whom, so that a token a backend still signs with it is named
`replaced_secret` rather than `bad_signature` (SPEC 3, SPEC 4 `/admin/keys`). Secrets replaced
before this revision were not kept: there is nothing to fill the table with.

Create Date: 2026-11-29 22:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'


def upgrade() -> None:
    op.create_table('replaced_key_secrets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_id', sa.Integer(), nullable=False),
    sa.Column('secret_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('replaced_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('replaced_by', sa.String(length=254), nullable=False),
    sa.ForeignKeyConstraint(['key_id'], ['videosdk_keys.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('replaced_key_secrets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_replaced_key_secrets_key_id'), ['key_id'],
                              unique=False)


def downgrade() -> None:
    # The old secrets go with the table: before 0004 nothing kept them.
    with op.batch_alter_table('replaced_key_secrets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_replaced_key_secrets_key_id'))
    op.drop_table('replaced_key_secrets')
