"""Item analysis in SQL, and the SME's reactions to a graded quiz (plan re-pitch, the 60% rule).

Per question: attempts, share correct, the most common wrong answers, and point-biserial
discrimination: r = (M1 - M0) / s * sqrt(p * q), where M1 and M0 are the mean quiz totals of those
who got the item right and wrong, s the (population) standard deviation of all totals and p the
share correct. The database returns the five sums it needs; Python finishes the arithmetic.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, func, select, true
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from tutormesh.agents import reteach
from tutormesh.core.db import sessionmaker_for
from tutormesh.core.models import CurriculumPlan, Profile, Subject, User
from tutormesh.core.models.assessment import (
    AssessmentEvent,
    Explanation,
    QuestionResult,
    Quiz,
    QuizQuestion,
    Submission,
    SubmissionResult,
)
from tutormesh.core.settings import get_settings
from tutormesh.core.shards import Database, Placement, get_router
from tutormesh.tools.curriculum import load_curriculum

TOP_WRONG = 5
# Per question [n, k, total, total_sq, total_right], and the count of each wrong answer.
ItemSums = tuple[dict[str, list[float]], dict[str, Counter[str]]]


def point_biserial(n: int, k: int, total: float, total_sq: float, total_right: float) -> float | None:
    """Discrimination from sums over takers: count, correct count, sum, sum of squares, sum among correct."""
    if n == 0 or k in (0, n):
        return None
    variance = total_sq / n - (total / n) ** 2
    if variance <= 1e-12:
        return None
    m1, m0, p = total_right / k, (total - total_right) / (n - k), k / n
    return (m1 - m0) / math.sqrt(variance) * math.sqrt(p * (1 - p))


def item_sums(s: Session, quiz_id: str, *, cohort: str | None = None) -> ItemSums:
    """The sums item analysis needs from one database, per question: [n, k, total, total_sq, total_right],
    and the count of each wrong answer (over several databases: `answer_rows` and `sums_of`)."""
    right = case((QuestionResult.correct, 1), else_=0)
    where = [QuestionResult.quiz_id == quiz_id]
    if cohort is not None:
        where.append(Submission.cohort == cohort)
    joined = (select(QuestionResult.question_id).join(SubmissionResult, SubmissionResult.submission_id
                                                      == QuestionResult.submission_id)
              .join(Submission, Submission.id == QuestionResult.submission_id).where(*where))
    sums = {r.question_id: [float(r.n), float(r.k or 0), float(r.total or 0), float(r.total_sq or 0),
                            float(r.total_right or 0)] for r in s.execute(joined.add_columns(
        func.count().label("n"), func.sum(right).label("k"), func.sum(SubmissionResult.score).label("total"),
        func.sum(SubmissionResult.score * SubmissionResult.score).label("total_sq"),
        func.sum(right * SubmissionResult.score).label("total_right")).group_by(QuestionResult.question_id))}
    answer = func.lower(func.trim(QuestionResult.answer))
    wrong: dict[str, Counter[str]] = {}
    for r in s.execute(joined.add_columns(answer.label("answer"), func.count().label("times"))
                       .where(QuestionResult.correct.is_(False)).group_by(QuestionResult.question_id, answer)):
        wrong.setdefault(r.question_id, Counter())[str(r.answer)] += int(r.times)
    return sums, wrong


def item_rows(questions: list[QuizQuestion], found: ItemSums) -> list[dict[str, Any]]:
    """Finish item analysis from the sums: one row per question, in quiz order."""
    sums, wrong = found
    out = []
    for q in questions:
        row = sums.get(q.id)
        n, k = (int(row[0]), int(row[1])) if row else (0, 0)
        r_pb = point_biserial(n, k, row[2], row[3], row[4]) if row else None
        listed = q.kind in ("choice", "symbolic")  # code and essays have no meaningful "same wrong answer"
        common = sorted(wrong.get(q.id, Counter()).items(), key=lambda a: (-a[1], a[0]))
        out.append({"question_id": q.id, "position": q.position, "kind": q.kind, "topic": q.topic,
                    "attempts": n, "correct": k, "pct_correct": round(100 * k / n, 1) if n else None,
                    "wrong_answers": [{"answer": a, "count": c} for a, c in common[:TOP_WRONG]] if listed else [],
                    "discrimination": None if r_pb is None else round(r_pb, 3)})
    return out


def questions_of(s: Session, quiz_id: str) -> list[QuizQuestion]:
    """The quiz's questions in order."""
    return list(s.scalars(select(QuizQuestion).where(QuizQuestion.quiz_id == quiz_id).order_by(QuizQuestion.position)))


def item_analysis(s: Session, quiz_id: str, *, cohort: str | None = None) -> list[dict[str, Any]]:
    """Return one row per question of the quiz: attempts, % correct, wrong answers, discrimination."""
    return item_rows(questions_of(s, quiz_id), item_sums(s, quiz_id, cohort=cohort))


def adjust_plan(s: Session, event: AssessmentEvent) -> None:
    """SME: ease or lift the difficulty ramp of the student's plan in the quiz's subject by the score."""
    quiz = s.get_one(Quiz, event.quiz_id)
    student_id = str(event.student_id)
    if s.get(Subject, quiz.subject) is None or not event.payload["max_score"]:
        return
    plan = s.get(CurriculumPlan, (student_id, quiz.subject))
    if plan is None:
        pace = s.scalar(select(Profile.pace).where(Profile.student_id == student_id)) or "moderate"
        plan = CurriculumPlan(student_id=student_id, subject=quiz.subject, start_date=date.today(), pace=pace,
                              adjustments=[], difficulty_ramp=False, slow_topics_left=None)
        s.add(plan)
    share = event.payload["score"] / event.payload["max_score"]
    change = reteach.difficulty_shift(share, {"adjustments": plan.adjustments, "difficulty_ramp": plan.difficulty_ramp})
    for key, value in (change or {}).items():
        setattr(plan, key, value)


def apply_reteach_rule(s: Session, event: AssessmentEvent) -> list[AssessmentEvent]:
    """The 60% rule for the submitter's cohort: explain hard questions again, to everyone who missed them.

    Sharded, the cohort is counted over every shard database (its answers through `Placement.gather`, its
    size from the directory), so the rule fires on the cohort's share, not one shard's. The explanation is
    written once, on the database it first fires on, and copied (same id) beside each student it is sent
    to, for their submission view. A student whose rows are on another database, or on a shard being
    moved, gets the event there, in a transaction of its own under their shard's lock (`ShardRouter.using`,
    which waits out a freeze); the event sweep delivers it. Returned: the events written in `s`.
    """
    settings = get_settings()
    sub = s.get_one(Submission, event.payload["submission_id"])
    cohort = sub.cohort or ""
    reach = _Reach.of(s)
    raised: list[AssessmentEvent] = []
    # Share of the cohort, not of the answers so far: early answers alone must not trigger the rule.
    enrolled = reach.enrolled(sub.cohort)
    for item in reach.items(event.quiz_id, sub.cohort):
        wrong = item["attempts"] - item["correct"]
        if not item["topic"] or not reteach.needs_reteach(wrong, max(item["attempts"], enrolled),
                                                          share=settings.reteach_wrong_share,
                                                          min_answers=settings.reteach_min_answers):
            continue
        explanation = reach.explanation(item["question_id"], cohort)
        if explanation is None:
            question = s.get_one(QuizQuestion, item["question_id"])
            text = reteach.in_depth_explanation(
                load_curriculum().topic(item["topic"]), prompt=question.prompt, wrong_share=wrong / item["attempts"],
                common_wrong=[w["answer"] for w in item["wrong_answers"]], kind=question.kind, spec=question.spec)
            explanation = Explanation(quiz_id=event.quiz_id, question_id=item["question_id"], cohort=cohort,
                                      text=text, source="curriculum", wrong_share=wrong / item["attempts"],
                                      answers=item["attempts"])
            s.add(explanation)
            s.flush()
        to_send = {f"explain:{explanation.id}:{student}": AssessmentEvent(
            key=f"explain:{explanation.id}:{student}", kind="explanation_ready", quiz_id=event.quiz_id,
            student_id=student, payload={"question_id": item["question_id"], "text": explanation.text})
            for student in reach.missed(item["question_id"], sub.cohort)}
        here = {key: e for key, e in to_send.items() if reach.writes_here(str(e.student_id))}
        sent = set(s.scalars(select(AssessmentEvent.key).where(AssessmentEvent.key.in_(here))))
        raised += [e for key, e in here.items() if key not in sent]
        for key, e in to_send.items():
            if key not in here:
                reach.send_elsewhere(e, explanation)
    s.add_all(raised)
    return raised


@dataclass
class _Reach:
    """Where the 60% rule reads and writes: the consumer's database alone, or every shard of the cohort."""

    s: Session
    placement: Placement | None = None
    here: Database | None = None  # sharded: the database `s` is on

    @classmethod
    def of(cls, s: Session) -> _Reach:
        settings = get_settings()
        router = get_router(settings)
        if router is None:
            return cls(s)
        placement = Placement(sessionmaker_for(settings), router)
        url = s.get_bind().engine.url
        return cls(s, placement, next((db for db in placement.databases() if db.engine.url == url), None))

    def enrolled(self, cohort: str | None) -> int:
        """The cohort's students (logins live in the directory)."""
        query = select(func.count()).where(User.cohort == cohort, User.role == "student")
        if self.placement is None:
            return self.s.scalar(query) or 0
        with self.placement.sessions() as d:
            return d.scalar(query) or 0

    def items(self, quiz_id: str, cohort: str | None) -> list[dict[str, Any]]:
        """Item analysis of the cohort's answers, each counted once, from every database."""
        if self.placement is None:
            return item_analysis(self.s, quiz_id, cohort=cohort)
        rows = self.placement.gather(lambda t: answer_rows(t, quiz_id, cohort=cohort), lambda row: row[0])
        return item_rows(questions_of(self.s, quiz_id), sums_of(rows))

    def missed(self, question_id: str, cohort: str | None) -> list[str]:
        """The students of the cohort who got the question wrong, from every database."""
        def read(t: Session) -> list[str]:
            return [str(sid) for sid in t.scalars(select(Submission.student_id).join(
                QuestionResult, QuestionResult.submission_id == Submission.id).where(
                QuestionResult.question_id == question_id, QuestionResult.correct.is_(False), _same_cohort(cohort)))]

        return read(self.s) if self.placement is None else self.placement.gather(read, str)

    def explanation(self, question_id: str, cohort: str) -> Explanation | None:
        """The question's explanation for the cohort: on this database, else a copy of another database's."""
        where = (Explanation.question_id == question_id, Explanation.cohort == cohort)
        found = self.s.scalar(select(Explanation).where(*where))
        if found is not None or self.placement is None:
            return found
        elsewhere = self.placement.gather(lambda t: [_detached(t, e) for e in t.scalars(select(Explanation).where(
            *where))], None)
        if not elsewhere:
            return None
        # Copied into `s` too: `send_elsewhere` then never inserts it on this database from a second
        # transaction, which would wait on `s`'s own uncommitted row.
        copy = self.s.merge(min(elsewhere, key=lambda e: e.id))
        self.s.flush()
        return copy

    def writes_here(self, student_id: str) -> bool:
        """Whether the student's event goes into `s`: their rows are on its database, on a settled shard."""
        return self.placement is None or (self.here is not None and self.placement.settled(self.here, student_id))

    def send_elsewhere(self, event: AssessmentEvent, explanation: Explanation) -> None:
        """Write the event (and a copy of the explanation) on the student's database, under their shard's lock."""
        if self.placement is None:
            raise TypeError("send_elsewhere: one database, every event goes into the consumer's transaction")
        wait_ms = int(get_settings().shard_freeze_wait_s * 1000)
        with self.placement.on(str(event.student_id)) as db, db.sessions.begin() as t:
            # A bounded wait for a row another consumer's open transaction is writing (deferred to the sweep).
            t.execute(sql_text(f"SET LOCAL lock_timeout = '{wait_ms}ms'"))
            if t.scalar(select(AssessmentEvent.id).where(AssessmentEvent.key == event.key)) is not None:
                return
            if (self.here is None or db.name != self.here.name) and t.scalar(select(Explanation.id).where(
                    Explanation.question_id == explanation.question_id,
                    Explanation.cohort == explanation.cohort)) is None:
                t.add(Explanation(**{c.key: getattr(explanation, c.key) for c in Explanation.__table__.columns}))
            t.add(event)


def _detached(s: Session, row: Explanation) -> Explanation:
    s.expunge(row)
    return row


def _same_cohort(cohort: str | None) -> Any:
    # No cohort: the rule looks at everyone who took the quiz, as item_analysis(cohort=None) does.
    return true() if cohort is None else Submission.cohort == cohort


def _choice_key(answer: str, choices: dict[str, str]) -> str | None:
    text = answer.strip().lower()
    for key, label in choices.items():
        if text in (str(key).lower(), str(label).strip().lower()):
            return str(key)
    return None


# One graded answer as the staff reads use it: student, question, correct, answer, the answer as
# counted among the wrong ones (lower(trim(...)) in SQL, as `item_sums` counts it) and the quiz total.
AnswerRow = tuple[str, str, bool, str, str, float]


def answer_rows(s: Session, quiz_id: str, *, cohort: str | None = None) -> list[AnswerRow]:
    """Every graded answer to the quiz on one database (sharded: each database holds its students')."""
    query = (select(Submission.student_id, QuestionResult.question_id, QuestionResult.correct, QuestionResult.answer,
                    func.lower(func.trim(QuestionResult.answer)), SubmissionResult.score)
             .join(SubmissionResult, SubmissionResult.submission_id == QuestionResult.submission_id)
             .join(Submission, Submission.id == QuestionResult.submission_id).where(QuestionResult.quiz_id == quiz_id))
    if cohort is not None:
        query = query.where(Submission.cohort == cohort)
    return [(str(sid), str(qid), bool(ok), str(answer), str(key), float(total or 0))
            for sid, qid, ok, answer, key, total in s.execute(query)]


def sums_of(rows: list[AnswerRow]) -> ItemSums:
    """The sums of `item_sums`, from answers gathered over several databases."""
    sums: dict[str, list[float]] = {}
    wrong: dict[str, Counter[str]] = {}
    for _, qid, correct, _, key, total in rows:
        right = 1.0 if correct else 0.0
        for n, value in enumerate((1.0, right, total, total * total, right * total)):
            sums.setdefault(qid, [0.0] * 5)[n] += value
        if not correct:
            wrong.setdefault(qid, Counter())[key] += 1
    return sums, wrong


def explanations(s: Session, quiz_id: str, cohort: str | None) -> list[dict[str, Any]]:
    """The re-teach explanations the 60% rule wrote for the quiz on one database (for one cohort, or all)."""
    query = select(Explanation).where(Explanation.quiz_id == quiz_id).order_by(Explanation.id)
    if cohort is not None:
        query = query.where(Explanation.cohort == cohort)
    return [{"id": e.id, "question_id": e.question_id, "cohort": e.cohort or None, "text": e.text, "source": e.source,
             "wrong_share": round(e.wrong_share, 3), "answers": e.answers} for e in s.scalars(query)]


def explained(s: Session, quiz_id: str) -> list[tuple[str, str]]:
    """(explanation id, student) of each explanation sent for the quiz on one database."""
    return [(key.split(":")[1], str(student)) for key, student in s.execute(
        select(AssessmentEvent.key, AssessmentEvent.student_id).where(
            AssessmentEvent.quiz_id == quiz_id, AssessmentEvent.key.like("explain:%")))]


def report_rows(questions: list[QuizQuestion], rows: list[AnswerRow], sent: list[dict[str, Any]],
                reached: Counter[str]) -> list[dict[str, Any]]:
    """Finish the console's item report from the quiz's answers, its explanations and whom each reached."""
    settings = get_settings()
    out = item_rows(questions, sums_of(rows))
    answers: dict[str, list[str]] = {}
    for _, question_id, _, answer, _, _ in rows:
        answers.setdefault(question_id, []).append(answer)
    by_id = {q.id: q for q in questions}
    for row in out:
        question = by_id[row["question_id"]]
        row["prompt"] = question.prompt
        if question.kind == "choice":
            choices = {str(k): str(v) for k, v in question.spec["choices"].items()}
            counts = dict.fromkeys(choices, 0)
            other = 0
            for answer in answers.get(question.id, []):
                key = _choice_key(answer, choices)
                if key is None:
                    other += 1
                else:
                    counts[key] += 1
            correct_key = str(question.spec["answer"]).lower()
            row["choices"] = [{"key": k, "text": choices[k], "count": n, "correct": k.lower() == correct_key}
                              for k, n in counts.items()]
            row["other_answers"] = other
        wrong = row["attempts"] - row["correct"]
        row["wrong_share"] = round(wrong / row["attempts"], 3) if row["attempts"] else None
        row["reteach_threshold"] = settings.reteach_wrong_share
        row["reteach"] = [{**{k: v for k, v in e.items() if k not in ("id", "question_id")},
                           "students_sent": reached[str(e["id"])]} for e in sent if e["question_id"] == question.id]
    return out


def item_report(s: Session, quiz_id: str, *, cohort: str | None = None) -> list[dict[str, Any]]:
    """Item analysis for the console, from one database: per question, % correct, every choice's share,
    discrimination, whether the 60% rule fired, and the re-teach it sent (explanation text and how many
    students got it). Sharded, `AssessmentStore.item_report` gathers the same parts from every database.
    """
    reached = Counter(explanation for explanation, _ in explained(s, quiz_id))
    return report_rows(questions_of(s, quiz_id), answer_rows(s, quiz_id, cohort=cohort),
                       explanations(s, quiz_id, cohort), reached)
