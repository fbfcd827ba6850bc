"""an assessment entry may pin a scale tier (scale_tier)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 01:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('assessment_scenarios', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scale_tier', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('assessment_scenarios', schema=None) as batch_op:
        batch_op.drop_column('scale_tier')
