"""Quiz submissions on the student's shard: submit, grade, relay events, sweep, and the staff reads.

Quizzes, their questions and assignments (the teacher's definitions) live in the directory. A
submission, its results, review flags and the per-student events live beside the student's other
rows (docs/scale-plan.md), so grading and the quiz-complete consumers (BKT, the plan, the message
into the student's thread) run in one transaction on one database. Those rows reference the quiz,
so each shard database holds a read-only copy of every quiz a submission names: written to every
database when the quiz is created, and on the student's database at submit time if missing.

Without shard settings there is one database and every method does what the plain functions did.
Submission ids name their shard (`owned_id`), so a task carrying only the id finds the rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from functools import partial
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, sessionmaker

from tutormesh.assessment import analysis, events, grading, quizzes, reviews
from tutormesh.core.errors import NotFound
from tutormesh.core.models import User
from tutormesh.core.models.assessment import Quiz, QuizQuestion, ReviewFlag, Submission, SubmissionResult
from tutormesh.core.shards import Database, Placement, ShardRouter, logical_shard, owned_id, router_of


class AssessmentStore:
    """Submissions and their results where the student's rows are; each method is one short transaction."""

    def __init__(self, sessions: sessionmaker[Session], router: ShardRouter | None = None) -> None:
        """Use the given session factory (the directory when sharded)."""
        self.sessions = sessions
        self.placement = Placement(sessions, router or router_of(sessions))

    # -- quiz copies on the shards -------------------------------------------------------------
    def _copy_quiz(self, s: Session, quiz_id: str) -> None:
        """Copy the quiz and its questions from the directory into `s` (a shard) unless already there."""
        if s.get(Quiz, quiz_id) is not None:
            return
        with self.sessions() as d:
            quiz = d.get(Quiz, quiz_id)
            if quiz is None:
                raise NotFound(f"no quiz {quiz_id!r}")
            questions = list(d.scalars(select(QuizQuestion).where(QuizQuestion.quiz_id == quiz_id)))
            d.expunge_all()
        s.merge(quiz)
        s.flush()  # the quiz before its questions (the foreign key)
        for q in questions:
            s.merge(q)

    def mirror_quiz(self, quiz_id: str) -> None:
        """Put a copy of a directory quiz on every shard database (nothing to do with one database)."""
        if self.placement.router is None:
            return
        for db in self.placement.databases():
            with db.sessions.begin() as s:
                self._copy_quiz(s, quiz_id)

    # -- one student's submission --------------------------------------------------------------
    def submit(self, quiz_id: str, *, student_id: str, cohort: str | None, answers: dict[str, str]) -> str:
        """Store a student's answers on their shard (status queued); return the submission id."""
        sharded = self.placement.router is not None
        with self.placement.on(student_id) as db, db.sessions.begin() as s:
            if sharded:
                self._copy_quiz(s, quiz_id)
            return quizzes.create_submission(s, quiz_id, student_id=student_id, cohort=cohort, answers=answers,
                                             submission_id=owned_id(student_id) if sharded else None)

    def _database_of(self, submission_id: str) -> Database | None:
        """The database holding a submission (an id that names no shard: looked up on each)."""
        place = self.placement.on_owned(submission_id)
        if place is not None:
            with place as db:
                return db
        for db in self.placement.databases():
            with db.sessions() as s:
                if s.get(Submission, submission_id) is not None:
                    return db
        return None

    def sessions_of(self, submission_id: str) -> sessionmaker[Session]:
        """The session factory of the submission's database (the directory's when it is nowhere)."""
        db = self._database_of(submission_id)
        return self.sessions if db is None else db.sessions

    def submission(self, submission_id: str) -> tuple[Submission, dict[str, Any]]:
        """Return the submission row (for the caller's ownership check) and its view; NotFound if none."""
        db = self._database_of(submission_id)
        if db is None:
            raise NotFound(f"no submission {submission_id!r}")
        with db.sessions() as s:
            sub = s.get(Submission, submission_id)
            if sub is None:
                raise NotFound(f"no submission {submission_id!r}")
            return sub, quizzes.submission_view(s, submission_id)

    def grade(self, submission_id: str, *, worker: str = "", min_confidence: float = 0.7) -> dict[str, Any]:
        """Grade a submission on its database (see `grading.grade_submission`)."""
        db = self._database_of(submission_id)
        if db is None:
            return {"status": "missing"}
        place = self.placement.on_owned(submission_id)
        if place is None:  # an old id without a shard suffix: the database found is the one
            return grading.grade_submission(db.sessions, submission_id, worker=worker, min_confidence=min_confidence)
        with place as held:  # held for the call: a move of this shard waits for the result
            return grading.grade_submission(held.sessions, submission_id, worker=worker,
                                            min_confidence=min_confidence)

    def relay(self, submission_id: str, event_ids: list[int]) -> int:
        """Deliver a graded submission's events on its database (the consumers find the student's thread there).

        The submission's shard is held for the call, as grading holds it: a move waits for the consumers'
        writes. Events they raise for students of a shard being moved are left to the sweep.
        """
        place = self.placement.on_owned(submission_id)
        if place is None:  # an old id without a shard suffix: the database it is found on
            sessions = self.sessions_of(submission_id)
            return events.relay(sessions, event_ids)
        with place as db:
            return events.relay(db.sessions, event_ids, settled=partial(self.placement.settled, db))

    # -- sweeps over every database -------------------------------------------------------------
    def claim_stale(self, *, older_than_s: float, max_dispatches: int = 10) -> list[str]:
        """Claim ungraded submissions on every database for re-sending (moving shards wait)."""
        claimed: list[str] = []
        for db in self.placement.databases():
            claimed += grading.claim_stale(db.sessions, older_than_s=older_than_s, max_dispatches=max_dispatches,
                                           settled=partial(self.placement.settled, db))
        return claimed

    def relay_stuck(self, *, older_than_s: float) -> int:
        """Deliver undelivered events older than `older_than_s` on every database (moving shards' wait)."""
        return sum(events.relay(db.sessions, older_than_s=older_than_s, settled=partial(self.placement.settled, db))
                   for db in self.placement.databases())

    # -- review flags, on the students' shards ----------------------------------------------------
    def usernames(self, student_ids: Collection[str]) -> dict[str, str]:
        """The directory's usernames of these students (the shards hold no logins)."""
        if not student_ids:
            return {}
        with self.sessions() as s:
            return {str(sid): str(name) for sid, name in s.execute(select(User.student_id, User.username).where(
                User.student_id.in_(list(student_ids))))}

    def flags(self, cohorts: Collection[str] | None, *, status: str = "open", quiz_id: str | None = None,
              limit: int = 200) -> list[dict[str, Any]]:
        """Review flags in scope from every database (see `reviews.flags`), oldest first, named by username."""
        rows = self.placement.gather(lambda s: reviews.flags(s, cohorts, status=status, quiz_id=quiz_id, limit=limit),
                                     lambda row: str(row["student_id"]))
        rows = sorted(rows, key=lambda r: (r["created_at"] or "", r["id"]))[:limit]
        names = self.usernames({r["student_id"] for r in rows})
        return [{**r, "student": names.get(r["student_id"], r["student"])} for r in rows]

    def quiz_flags(self, quiz_id: str, cohort: str | None) -> list[dict[str, Any]]:
        """A quiz's open flags from every database (see `reviews.quiz_flags`), oldest first."""
        rows = self.placement.gather(lambda s: reviews.quiz_flags(s, quiz_id, cohort),
                                     lambda row: str(row["student_id"]))
        return sorted(rows, key=lambda r: (r["created_at"] or "", r["id"]))

    def resolve_flag(self, flag_id: int, cohorts: Collection[str] | None, *, user_id: str, reason: str,
                     score: float | None = None) -> dict[str, Any]:
        """Resolve a flag where its student's rows are (see `reviews.resolve`); NotFound when it is nowhere.

        Flag ids are unique over the databases (each has its own id range); the student's database is
        held for the call, so a move of their shard waits for the override and carries it.
        """
        def owner(s: Session) -> list[str]:
            return [str(sid) for sid in s.scalars(select(Submission.student_id).join(
                ReviewFlag, ReviewFlag.submission_id == Submission.id).where(ReviewFlag.id == flag_id))]

        found = self.placement.gather(owner, str)
        if not found:
            raise NotFound("review flag not found")
        with self.placement.on(found[0]) as db, db.sessions.begin() as s:
            return reviews.resolve(s, flag_id, cohorts, user_id=user_id, reason=reason, score=score)

    # -- quiz progress -------------------------------------------------------------------------------
    def submission_counts(self, quiz_ids: Collection[str],
                          cohorts: Collection[str] | None) -> dict[str, tuple[int, int]]:
        """(submissions, graded) per quiz over every database, each submission counted once.

        Counted in SQL, per quiz and logical shard (a sharded submission id names it, see `owned_id`; an id
        that does not is grouped by its student), so a database returns a few rows, not one per submission.
        """
        graded = func.count().filter(Submission.status == "graded")
        where = [Submission.quiz_id.in_(list(quiz_ids))]
        if cohorts is not None:
            where.append(Submission.cohort.in_(list(cohorts)))
        if self.placement.router is None:
            with self.sessions() as s:
                return {str(q): (int(n), int(g)) for q, n, g in s.execute(
                    select(Submission.quiz_id, func.count(), graded).where(*where).group_by(Submission.quiz_id))}
        tag = func.substring(Submission.id, r"-([0-9]{3})$")
        owner = case((tag.is_(None), Submission.student_id))

        def read(s: Session) -> list[tuple[str, int, int, int]]:
            return [(str(q), int(t) if t is not None else logical_shard(str(sid)), int(n), int(g))
                    for q, t, sid, n, g in s.execute(select(Submission.quiz_id, tag, owner, func.count(), graded)
                                                     .where(*where).group_by(Submission.quiz_id, tag, owner))]

        counts: dict[str, tuple[int, int]] = {}
        for quiz_id, _, n, g in self.placement.gather(read, None, logical_of=lambda row: row[1]):
            total, done = counts.get(quiz_id, (0, 0))
            counts[quiz_id] = (total + n, done + g)
        return counts

    def submissions_of(self, student_id: str,
                       quiz_ids: Collection[str]) -> dict[str, tuple[Submission, SubmissionResult | None]]:
        """A student's submissions to these quizzes with their totals (None: not graded), from their shard."""
        with self.placement.on(student_id) as db, db.sessions() as s:
            return {sub.quiz_id: (sub, total) for sub, total in s.execute(
                select(Submission, SubmissionResult).outerjoin(
                    SubmissionResult, SubmissionResult.submission_id == Submission.id)
                .where(Submission.student_id == student_id, Submission.quiz_id.in_(list(quiz_ids))))}

    # -- staff reads, merged over the databases --------------------------------------------------
    def item_analysis(self, quiz_id: str, *, cohort: str | None = None) -> list[dict[str, Any]]:
        """Item analysis over every database: the answers gathered (each once), summed and finished here."""
        rows = self.placement.gather(lambda s: analysis.answer_rows(s, quiz_id, cohort=cohort),
                                     lambda row: row[0])
        with self.sessions() as s:
            return analysis.item_rows(analysis.questions_of(s, quiz_id), analysis.sums_of(rows))

    def item_report(self, quiz_id: str, *, cohort: str | None = None) -> list[dict[str, Any]]:
        """The console's item report (see `analysis.item_report`) over every database's answers and re-teach.

        The answers and the explanation events are each counted once (from their student's database); an
        explanation is on the database the rule wrote it and copied, same id, beside its students: listed once.
        """
        rows = self.placement.gather(lambda s: analysis.answer_rows(s, quiz_id, cohort=cohort),
                                     lambda row: row[0])
        found = self.placement.gather(lambda s: analysis.explanations(s, quiz_id, cohort), None)
        sent = sorted({e["id"]: e for e in found}.values(), key=lambda e: e["id"])
        reached = Counter(e for e, _ in self.placement.gather(lambda s: analysis.explained(s, quiz_id),
                                                               lambda row: row[1]))
        with self.sessions() as s:
            return analysis.report_rows(analysis.questions_of(s, quiz_id), rows, sent, reached)

    def results(self, quiz_id: str, cohorts: Collection[str] | None) -> list[tuple[Submission, Any, str | None]]:
        """(submission, its total or None, the student's username) per submission, by username.

        The usernames are the directory's; sharded, each database's submissions are read and joined here.
        """
        def read(s: Session) -> list[Any]:
            query = (select(Submission, SubmissionResult).outerjoin(
                SubmissionResult, SubmissionResult.submission_id == Submission.id).where(Submission.quiz_id == quiz_id))
            if cohorts is not None:
                query = query.where(Submission.cohort.in_(list(cohorts)))
            return list(s.execute(query).all())

        if self.placement.router is None:  # one database: the join and order in SQL, as ever
            with self.sessions() as s:
                query = (select(Submission, SubmissionResult, User.username).outerjoin(
                    SubmissionResult, SubmissionResult.submission_id == Submission.id)
                    .outerjoin(User, User.student_id == Submission.student_id).where(Submission.quiz_id == quiz_id)
                    .order_by(User.username))
                if cohorts is not None:
                    query = query.where(Submission.cohort.in_(list(cohorts)))
                return [(sub, total, name) for sub, total, name in s.execute(query)]
        found: list[Any] = []
        for db in self.placement.databases():
            with db.sessions() as s:
                found += read(s)
        students = {sub.student_id for sub, _ in found}
        with self.sessions() as s:
            names = dict(s.execute(select(User.student_id, User.username).where(
                User.student_id.in_(students))).all()) if students else {}
        rows = [(sub, total, names.get(sub.student_id)) for sub, total in found]
        return sorted(rows, key=lambda r: (r[2] is None, r[2] or ""))
