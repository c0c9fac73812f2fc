"""privacy: date-of-birth band and guardian consent on users; the privacy audit log

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("dob_band", sa.String(length=12), nullable=True))
    op.add_column("users", sa.Column("guardian_consent_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "privacy_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("privacy_audit")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("guardian_consent_at")
        batch.drop_column("dob_band")
