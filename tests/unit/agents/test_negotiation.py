"""The student agent's negotiation decisions: accept a fitting subset, shrink the ask, escalate."""

from datetime import UTC, datetime

from tutormesh.agents.negotiation import PRACTICE, RECAP, VISUAL, first_proposal, respond, support_for
from tutormesh.agents.protocol import Accept, Counteroffer, Escalate, Propose, Reject, dump, parse_message

NOW = datetime(2026, 10, 1, tzinfo=UTC)
SEED_PROFILE = {"learning_style": {"visual": 0.7, "audio": 0.3}, "language": "hi", "pace": "moderate"}


def offer() -> Counteroffer:
    return Counteroffer(sender="sme_agent", proposed_pace="slow", adjustments=[VISUAL, PRACTICE, RECAP],
                        trade_off="Will reduce breadth, focus on depth", estimated_impact="+3 weeks to complete unit")


def test_opening_move_is_the_seed_pace_adjustment() -> None:
    move = first_proposal(SEED_PROFILE, {"pace": "moderate", "adjustments": []}, "Student failed 3/3")
    assert isinstance(move, Propose)
    assert (move.kind, move.current_pace, move.proposed_pace) == ("PACE_ADJUSTMENT", "moderate", "slow")
    assert move.student_profile["learning_style"] == {"visual": 0.7, "audio": 0.3}


def test_visual_learner_accepts_visual_and_practice_but_not_recap_videos() -> None:
    history = [first_proposal(SEED_PROFILE, {"pace": "moderate"}, "stuck"), offer()]
    [move] = respond(history[-1], history, SEED_PROFILE, now=NOW, max_rounds=3, review_days=7)
    assert isinstance(move, Accept)
    assert move.agreed_adjustments == [VISUAL, PRACTICE]
    assert move.next_review == "1 week" and move.review_at.startswith("2026-10-08")
    assert move.commitment == "Student will complete daily practice"


def test_reject_of_pace_leads_to_a_smaller_support_ask_then_escalation() -> None:
    no = Reject(sender="sme_agent", reason="10 topics remain in 3 weeks")
    history = [first_proposal(SEED_PROFILE, {"pace": "moderate"}, "stuck"), no]
    [second] = respond(no, history, SEED_PROFILE, now=NOW, max_rounds=3, review_days=7)
    assert isinstance(second, Propose) and second.kind == "SUPPORT_ADJUSTMENT"
    assert second.proposed_pace == second.current_pace == "moderate"
    [third] = respond(no, [*history, second, no], SEED_PROFILE, now=NOW, max_rounds=3, review_days=7)
    assert isinstance(third, Escalate) and "Deadlock after 2 round(s)" in third.reason


def test_round_limit_ends_in_escalation() -> None:
    no = Reject(sender="sme_agent", reason="no")
    history = [first_proposal(SEED_PROFILE, {"pace": "moderate"}, "stuck"), no]
    [move] = respond(no, history, SEED_PROFILE, now=NOW, max_rounds=1, review_days=7)
    assert isinstance(move, Escalate)


def test_already_slow_with_every_support_escalates_immediately() -> None:
    plan = {"pace": "slow", "adjustments": [VISUAL, PRACTICE, RECAP]}
    assert isinstance(first_proposal(SEED_PROFILE, plan, "no improvement"), Escalate)
    partial = first_proposal(SEED_PROFILE, {"pace": "slow", "adjustments": [VISUAL, PRACTICE]}, "no improvement")
    assert isinstance(partial, Propose) and partial.requested_adjustments == [RECAP]


def test_support_follows_learning_style() -> None:
    assert support_for({"learning_style": {"visual": 0.2, "audio": 0.8}}) == [PRACTICE, RECAP]


def test_messages_round_trip_through_json_with_their_type() -> None:
    for message in (offer(), Reject(sender="sme_agent", reason="x"), Escalate(sender="admin_agent", reason="y")):
        assert parse_message(dump(message)) == message


def test_a_counteroffer_that_changes_nothing_is_rejected_then_the_missing_support_is_asked_for() -> None:
    plan = {"pace": "slow", "adjustments": [VISUAL]}
    ask = first_proposal(SEED_PROFILE, plan, "stuck")
    same = Counteroffer(sender="sme_agent", proposed_pace="slow", adjustments=[VISUAL], trade_off="Same pace",
                        estimated_impact="+0.10 weeks")
    moves = respond(same, [ask, same], SEED_PROFILE, now=NOW, max_rounds=3, review_days=7, in_plan=[VISUAL])
    assert [m.type for m in moves] == ["REJECT", "ESCALATE"]  # the ask was already a support ask: deadlock
    assert moves[0].sender == "student_agent" and "changes nothing" in moves[0].reason
    pace_ask = first_proposal(SEED_PROFILE, {"pace": "moderate", "adjustments": [VISUAL]}, "stuck")
    same_pace = Counteroffer(sender="sme_agent", proposed_pace="moderate", adjustments=[VISUAL],
                             trade_off="Same pace", estimated_impact="+0.10 weeks")
    moves = respond(same_pace, [pace_ask, same_pace], SEED_PROFILE, now=NOW, max_rounds=3, review_days=7,
                    in_plan=[VISUAL])
    assert [m.type for m in moves] == ["REJECT", "PROPOSE"]
    assert isinstance(moves[1], Propose) and moves[1].requested_adjustments == [PRACTICE]
