"""cell runs keep why they ended (detail) and the kernel_restarted note

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 10:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cell_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('detail', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('kernel_restarted', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cell_runs', schema=None) as batch_op:
        batch_op.drop_column('kernel_restarted')
        batch_op.drop_column('detail')
