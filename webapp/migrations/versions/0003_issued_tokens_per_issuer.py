"""one issued-token row per token and issuer

The same claims, key and second sign to the same token whoever asks. With the fingerprint
unique, only the first issuer's row was kept: a second person did not find the token in their
history, and introspection named the first API client. Now (fingerprint, issuer) is unique.

Create Date: 2026-11-28 01:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'

# SQLite keeps the fingerprint's UNIQUE of 0001 unnamed; batch mode names it by this
# convention so that it can be dropped (PostgreSQL named it issued_tokens_fingerprint_key).
_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
_PER_ISSUER = "uq_issued_tokens_fingerprint_issuer"


def _fingerprint_unique_name() -> str:
    for constraint in sa.inspect(op.get_bind()).get_unique_constraints("issued_tokens"):
        if constraint["column_names"] == ["fingerprint"]:
            return constraint["name"] or "uq_issued_tokens_fingerprint"
    raise RuntimeError("issued_tokens has no UNIQUE (fingerprint) to replace")


def upgrade() -> None:
    name = _fingerprint_unique_name()
    with op.batch_alter_table('issued_tokens', naming_convention=_NAMES) as batch_op:
        batch_op.drop_constraint(name, type_='unique')
        batch_op.create_unique_constraint(_PER_ISSUER, ['fingerprint', 'issuer'])


def downgrade() -> None:
    # Back to one row per token: keep each token's first issuer, as 0002 did.
    op.execute("DELETE FROM issued_tokens WHERE id NOT IN "
               "(SELECT MIN(id) FROM issued_tokens GROUP BY fingerprint)")
    with op.batch_alter_table('issued_tokens') as batch_op:
        batch_op.drop_constraint(_PER_ISSUER, type_='unique')
        batch_op.create_unique_constraint('issued_tokens_fingerprint_key', ['fingerprint'])
