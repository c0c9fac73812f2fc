"""llm cost ledger, budgets and alerts

Revision ID: 0003
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('llm_ledger',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=False),
    sa.Column('model', sa.String(length=120), nullable=False),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('tokens_in', sa.Integer(), nullable=False),
    sa.Column('tokens_out', sa.Integer(), nullable=False),
    sa.Column('cost_usd', sa.Float(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_llm_ledger_student_month', 'llm_ledger', ['student_id', 'month'], unique=False)
    op.create_index(op.f('ix_llm_ledger_day'), 'llm_ledger', ['day'], unique=False)
    op.create_table('llm_budgets',
    sa.Column('student_id', sa.String(length=64), nullable=False),
    sa.Column('monthly_usd', sa.Float(), nullable=False),
    sa.Column('daily_usd', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('student_id')
    )
    op.create_table('llm_cost_alerts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('projected_usd', sa.Float(), nullable=False),
    sa.Column('threshold_usd', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ux_llm_cost_alerts_student_month', 'llm_cost_alerts', ['student_id', 'month'], unique=True)


def downgrade() -> None:
    op.drop_index('ux_llm_cost_alerts_student_month', table_name='llm_cost_alerts')
    op.drop_table('llm_cost_alerts')
    op.drop_table('llm_budgets')
    op.drop_index(op.f('ix_llm_ledger_day'), table_name='llm_ledger')
    op.drop_index('ix_llm_ledger_student_month', table_name='llm_ledger')
    op.drop_table('llm_ledger')
