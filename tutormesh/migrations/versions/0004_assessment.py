"""assessment: quizzes, submissions, results, review flags, explanations, event outbox and inbox

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-25 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('assessment_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('quiz_id', sa.String(length=32), nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    op.create_index(op.f('ix_assessment_events_delivered_at'), 'assessment_events', ['delivered_at'], unique=False)
    op.create_index(op.f('ix_assessment_events_student_id'), 'assessment_events', ['student_id'], unique=False)
    op.create_table('explanations',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('quiz_id', sa.String(length=32), nullable=False),
    sa.Column('question_id', sa.String(length=64), nullable=False),
    sa.Column('cohort', sa.String(length=80), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('wrong_share', sa.Float(), nullable=False),
    sa.Column('answers', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('question_id', 'cohort', name='uq_explanations_question_cohort')
    )
    op.create_index(op.f('ix_explanations_quiz_id'), 'explanations', ['quiz_id'], unique=False)
    op.create_table('quizzes',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('subject', sa.String(length=40), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('event_receipts',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('consumer', sa.String(length=40), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['assessment_events.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'consumer')
    )
    op.create_table('quiz_assignments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('quiz_id', sa.String(length=32), nullable=False),
    sa.Column('cohort', sa.String(length=80), nullable=True),
    sa.Column('student_id', sa.String(length=64), nullable=True),
    sa.Column('assigned_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['quiz_id'], ['quizzes.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_quiz_assignments_quiz_id'), 'quiz_assignments', ['quiz_id'], unique=False)
    op.create_table('quiz_questions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('quiz_id', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('prompt', sa.Text(), nullable=False),
    sa.Column('topic', sa.String(length=80), nullable=True),
    sa.Column('points', sa.Float(), nullable=False),
    sa.Column('spec', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['quiz_id'], ['quizzes.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_quiz_questions_quiz_id'), 'quiz_questions', ['quiz_id'], unique=False)
    op.create_table('submissions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('quiz_id', sa.String(length=32), nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=False),
    sa.Column('cohort', sa.String(length=80), nullable=True),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('dispatches', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['quiz_id'], ['quizzes.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('quiz_id', 'student_id', name='uq_submissions_quiz_student')
    )
    op.create_index('ix_submissions_status_dispatched', 'submissions', ['status', 'dispatched_at'], unique=False)
    op.create_index(op.f('ix_submissions_student_id'), 'submissions', ['student_id'], unique=False)
    op.create_table('question_results',
    sa.Column('submission_id', sa.String(length=64), nullable=False),
    sa.Column('question_id', sa.String(length=64), nullable=False),
    sa.Column('quiz_id', sa.String(length=32), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('correct', sa.Boolean(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('max_points', sa.Float(), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('grader', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('feedback', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['quiz_questions.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('submission_id', 'question_id')
    )
    op.create_index('ix_question_results_quiz_question', 'question_results', ['quiz_id', 'question_id'], unique=False)
    op.create_table('review_flags',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('submission_id', sa.String(length=64), nullable=False),
    sa.Column('question_id', sa.String(length=64), nullable=False),
    sa.Column('quiz_id', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('submission_id', 'question_id', name='uq_review_flags_answer')
    )
    op.create_index(op.f('ix_review_flags_quiz_id'), 'review_flags', ['quiz_id'], unique=False)
    op.create_table('submission_results',
    sa.Column('submission_id', sa.String(length=64), nullable=False),
    sa.Column('quiz_id', sa.String(length=32), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('max_score', sa.Float(), nullable=False),
    sa.Column('flagged', sa.Integer(), nullable=False),
    sa.Column('worker', sa.String(length=120), nullable=False),
    sa.Column('grading_ms', sa.Float(), nullable=False),
    sa.Column('graded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('submission_id')
    )
    op.create_index(op.f('ix_submission_results_quiz_id'), 'submission_results', ['quiz_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_submission_results_quiz_id'), table_name='submission_results')
    op.drop_table('submission_results')
    op.drop_index(op.f('ix_review_flags_quiz_id'), table_name='review_flags')
    op.drop_table('review_flags')
    op.drop_index('ix_question_results_quiz_question', table_name='question_results')
    op.drop_table('question_results')
    op.drop_index(op.f('ix_submissions_student_id'), table_name='submissions')
    op.drop_index('ix_submissions_status_dispatched', table_name='submissions')
    op.drop_table('submissions')
    op.drop_index(op.f('ix_quiz_questions_quiz_id'), table_name='quiz_questions')
    op.drop_table('quiz_questions')
    op.drop_index(op.f('ix_quiz_assignments_quiz_id'), table_name='quiz_assignments')
    op.drop_table('quiz_assignments')
    op.drop_table('event_receipts')
    op.drop_table('quizzes')
    op.drop_index(op.f('ix_explanations_quiz_id'), table_name='explanations')
    op.drop_table('explanations')
    op.drop_index(op.f('ix_assessment_events_student_id'), table_name='assessment_events')
    op.drop_index(op.f('ix_assessment_events_delivered_at'), table_name='assessment_events')
    op.drop_table('assessment_events')
