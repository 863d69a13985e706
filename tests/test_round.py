"""Tests for blackjack.round: the deal, insurance, the peek, each decision, settlement.

Most rounds are dealt from a stacked shoe with :func:`engine_helpers.dealt`:
players' two cards and the dealer's ``"up hole"`` in casino deal order, then
the cards that later hits, doubles, splits and the dealer draw.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blackjack import (
    PRESETS, Action, Card, IllegalActionError, InvalidBetError, NotYourTurnError, Phase,
    Result, Round, Rules, RulesError, Shoe, Turn,
)
from blackjack.rules import DoubleRule
from blackjack.testing import StackedShoe
from engine_helpers import dealt, kinds, play, random_policy, rules_values


def _results(round_: Round) -> list[tuple[int, int, Result, int, int]]:
    """(seat, hand, result, stake, payout) for every settled hand."""
    assert round_.outcome is not None, "the round is not settled"
    return [(h.seat, h.hand, h.result, h.stake, h.payout) for h in round_.outcome.hands]


def _hands(round_: Round, seat: int = 1) -> list[str]:
    """A seat's hands in wire form, one string per hand."""
    return [str(hand) for hand in round_.hands(seat)]


def _why(round_: Round, action: Action) -> str:
    """The reason ``action`` is illegal; also checks act() raises with that reason."""
    reason = round_.why_illegal(action)
    assert reason is not None, f"{action} is legal"
    assert action not in round_.legal_actions()
    with pytest.raises(IllegalActionError) as info:
        round_.act(action)
    assert str(info.value) == reason
    return reason


# -- the deal ---------------------------------------------------------------


def test_deal_order_is_one_card_each_then_upcard_then_second_cards_then_hole() -> None:
    """Seats get a card each in seat order, the dealer one up, a second card each, then the hole card."""
    round_ = Round(Rules(), StackedShoe("2S 3S 4S 5S 6S 7S 8S 9S TC"), {5: 10, 1: 10, 3: 10})
    round_.deal()
    assert [str(h) for s in (1, 3, 5) for h in round_.hands(s)] == ["2S 6S", "3S 7S", "4S 8S"]
    assert round_.dealer_upcard == Card.parse("5S")
    assert round_.view().dealer == ("5S", "??")
    while round_.turn:
        round_.act(Action.STAND)
    assert round_.outcome is not None
    assert [str(c) for c in round_.outcome.dealer.cards[:2]] == ["5S", "9S"]


def test_no_hole_card_game_deals_the_dealer_one_card_until_players_finish() -> None:
    """Without a peek the dealer's second card comes only after every player has acted."""
    round_ = dealt(["TS 7C"], "9H", then="2D 8D", dealer_peek=False)
    assert round_.view().dealer == ("9H",)
    round_.act(Action.HIT)          # the player takes the next card, 2D
    assert round_.hands(1)[0].total == 19
    round_.act(Action.STAND)
    assert round_.outcome is not None
    assert str(round_.outcome.dealer) == "9H 8D"


def test_dealing_without_bets_is_rejected() -> None:
    """deal() with no seat bet raises and deals nothing."""
    round_ = Round(Rules(), StackedShoe("2S 3S 4S 5S"))
    with pytest.raises(IllegalActionError, match="nobody has bet"):
        round_.deal()
    assert round_.phase is Phase.BETTING and round_.cards_out() == []


def test_dealing_twice_is_rejected() -> None:
    """A round is dealt once; a second deal() raises."""
    round_ = dealt(["TS 7C"], "9H 8D")
    with pytest.raises(IllegalActionError, match="already dealt"):
        round_.deal()


# -- bets -------------------------------------------------------------------


@pytest.mark.parametrize("seat, amount, message", [
    (1, 9, "bet must be 10 to 500, not 9"),
    (1, 501, "bet must be 10 to 500, not 501"),
    (1, 10.0, "whole number of chips, not 10.0"),
    (1, "10", "whole number of chips, not '10'"),
    (1, True, "whole number of chips, not True"),
    (0, 10, "no seat 0: seats are 1 to 7"),
    (8, 10, "no seat 8: seats are 1 to 7"),
    (True, 10, "no seat True"),
    (2.0, 10, "no seat 2.0"),
])
def test_bad_bets_are_rejected_saying_why(seat: object, amount: object, message: str) -> None:
    """Bets outside the limits, non-int or bool amounts and unknown seats raise InvalidBetError."""
    round_ = Round(Rules(), StackedShoe("2S"))
    with pytest.raises(InvalidBetError, match=message):
        round_.bet(seat, amount)  # type: ignore[arg-type]
    assert round_.bets == {}


def test_a_seat_bets_once() -> None:
    """A second bet from the same seat is rejected and the first stands."""
    round_ = Round(Rules(), StackedShoe("2S"), {3: 20})
    with pytest.raises(InvalidBetError, match="seat 3 has already bet 20"):
        round_.bet(3, 50)
    assert round_.bets == {3: 20}


def test_no_bets_after_the_deal() -> None:
    """Once the cards are out no seat may bet."""
    round_ = dealt(["TS 7C"], "9H 8D")
    with pytest.raises(InvalidBetError, match="already dealt"):
        round_.bet(2, 10)


# -- the peek, insurance and even money ---------------------------------------


def test_natural_is_not_paid_before_the_peek_under_an_ace() -> None:
    """A natural under a dealer ace waits for the peek, and pushes when the dealer has blackjack."""
    round_ = dealt(["AS KH"], "AD KS")
    assert round_.phase is Phase.INSURANCE and round_.outcome is None
    round_.act(Action.NO_INSURANCE)
    assert _results(round_) == [(1, 0, Result.PUSH, 10, 10)]
    events = kinds(round_.events)
    assert events.index("peek") < events.index("result")


def test_natural_pushes_a_dealer_blackjack_found_under_a_ten() -> None:
    """Under a ten the peek finds the dealer's blackjack before any natural is paid."""
    round_ = dealt(["AS KH"], "TD AC")
    assert _results(round_) == [(1, 0, Result.PUSH, 10, 10)]
    peek = next(e for e in round_.events if e.kind == "peek")
    assert peek.detail == {"blackjack": True}


def test_natural_is_paid_only_at_settlement_when_the_dealer_has_no_blackjack() -> None:
    """After a clean peek a natural waits for the other seats and is then paid 3:2."""
    round_ = dealt(["AS KH", "9S 7C"], "TD 8C")
    assert round_.turn == Turn(2, 0) and round_.outcome is None
    round_.act(Action.STAND)
    assert _results(round_)[0] == (1, 0, Result.BLACKJACK, 10, 25)


def test_dealer_peeks_under_an_ace_after_insurance_and_ends_the_round() -> None:
    """With an ace up and blackjack in the hole, no player acts once insurance is answered."""
    round_ = dealt(["9S 7H"], "AC KD")
    round_.act(Action.NO_INSURANCE)
    assert round_.phase is Phase.FINISHED
    assert "turn" not in kinds(round_.events)
    assert _results(round_) == [(1, 0, Result.LOSE, 10, 0)]


def test_dealer_peeks_under_a_ten_before_anyone_plays() -> None:
    """A ten up with an ace in the hole settles the round at the deal, revealing the hole card."""
    round_ = dealt(["9S 7H"], "TC AD")
    assert round_.phase is Phase.FINISHED
    assert kinds(round_.events)[-5:] == ["deal", "peek", "reveal", "dealer", "result"]
    assert _results(round_) == [(1, 0, Result.LOSE, 10, 0)]


def test_clean_peek_under_a_ten_keeps_the_hole_card_hidden() -> None:
    """When the peek finds no blackjack play starts and the hole card stays face down."""
    round_ = dealt(["9S 7H"], "TC 8D")
    assert round_.phase is Phase.PLAYING
    assert [e.detail for e in round_.events if e.kind == "peek"] == [{"blackjack": False}]
    assert round_.view().dealer == ("TC", "??")
    assert "reveal" not in kinds(round_.events)


def test_no_peek_under_a_low_upcard() -> None:
    """The dealer only peeks under an ace or a ten-valued card."""
    round_ = dealt(["9S 7H"], "9C AD")
    assert "peek" not in kinds(round_.events)
    assert round_.phase is Phase.PLAYING


@pytest.mark.parametrize("take, hole, phase, insurance_payout", [
    (True, "KD", Phase.FINISHED, 15),
    (True, "7D", Phase.PLAYING, None),
    (False, "KD", Phase.FINISHED, None),
    (False, "7D", Phase.PLAYING, None),
])
def test_insurance_taken_or_declined_with_and_without_dealer_blackjack(
        take: bool, hole: str, phase: Phase, insurance_payout: int | None) -> None:
    """Insurance costs half the bet and pays 2:1 only on a dealer blackjack; play goes on otherwise."""
    round_ = dealt(["9S 7H"], f"AC {hole}", then="2C")
    round_.act(Action.INSURANCE if take else Action.NO_INSURANCE)
    assert round_.phase is phase
    if phase is Phase.PLAYING:
        round_.act(Action.STAND)
    outcome = round_.outcome
    assert outcome is not None
    if take:
        assert outcome.insurance[0].stake == 5
        assert outcome.insurance[0].payout == (insurance_payout or 0)
    else:
        assert outcome.insurance == ()
    expected_net = {(True, "KD"): 0, (True, "7D"): -15,
                    (False, "KD"): -10, (False, "7D"): -10}[take, hole]
    assert outcome.net(1) == expected_net


@pytest.mark.parametrize("hole", ["KS", "7S"])
def test_even_money_pays_one_to_one_whatever_the_hole_card(hole: str) -> None:
    """A natural under an ace may take even money, paid 1:1 with or without a dealer blackjack."""
    round_ = dealt(["AS KH"], f"AD {hole}")
    assert round_.legal_actions() == {Action.EVEN_MONEY, Action.NO_INSURANCE}
    assert "take even money" in _why(round_, Action.INSURANCE)
    round_.act(Action.EVEN_MONEY)
    assert _results(round_) == [(1, 0, Result.EVEN_MONEY, 10, 20)]


def test_even_money_is_only_for_a_natural() -> None:
    """A hand that is not blackjack cannot take even money."""
    round_ = dealt(["9S 7H"], "AD 7S")
    assert _why(round_, Action.EVEN_MONEY) == "cannot take even money: only a blackjack can"


def test_insurance_offer_never_deadlocks_the_table() -> None:
    """While insurance is offered each pending seat has decisions, others none, and play resumes after the last answer."""
    round_ = dealt(["9S 7H", "AS KD", "TS 6C"], "AC 7D", bets={1: 10, 2: 10, 3: 1}, min_bet=1)
    assert round_.phase is Phase.INSURANCE
    assert round_.insurance_pending == (1, 2)   # a 1-chip bet has no half to insure
    assert round_.legal_actions(1) == {Action.INSURANCE, Action.NO_INSURANCE}
    assert round_.legal_actions(2) == {Action.EVEN_MONEY, Action.NO_INSURANCE}
    assert round_.legal_actions(3) == frozenset()
    assert round_.turn == Turn(1, 0)
    assert _why(round_, Action.HIT).startswith("cannot hit: answer the insurance offer first")
    round_.act(Action.NO_INSURANCE, seat=2)      # answering out of order is fine
    assert round_.phase is Phase.INSURANCE and round_.insurance_pending == (1,)
    round_.act(Action.INSURANCE, seat=1)
    assert round_.phase is Phase.PLAYING and round_.turn == Turn(1, 0)
    assert Action.STAND in round_.legal_actions()


def test_a_seat_answers_insurance_once() -> None:
    """A seat that has answered the insurance offer cannot answer again."""
    round_ = dealt(["9S 7H", "TS 6C"], "AC 7D")
    round_.act(Action.NO_INSURANCE, seat=1)
    with pytest.raises(IllegalActionError, match="seat 1 has no insurance decision"):
        round_.act(Action.INSURANCE, seat=1)


def test_no_insurance_phase_at_a_table_without_insurance() -> None:
    """With insurance off an ace up goes straight to the peek and play."""
    round_ = dealt(["9S 7H"], "AC 7D", insurance=False)
    assert round_.phase is Phase.PLAYING
    assert _why(round_, Action.INSURANCE) == "cannot take insurance: insurance is not on offer"


# -- the no-hole-card (European) game -------------------------------------------


def test_no_peek_dealer_blackjack_takes_doubles_and_splits_and_a_natural_pushes() -> None:
    """Without a peek a late dealer blackjack wins whole doubled and split stakes; a natural pushes."""
    round_ = dealt(["6S 5H", "8S 8H", "AS KD"], "TC", then="9D 2C 3C AH", dealer_peek=False)
    round_.act(Action.DOUBLE)                    # seat 1: 11 + 9D
    round_.act(Action.SPLIT)                     # seat 2: 8 8 -> 8 2C, 8 3C
    round_.act(Action.STAND)
    round_.act(Action.STAND)
    assert _results(round_) == [
        (1, 0, Result.LOSE, 20, 0),
        (2, 0, Result.LOSE, 10, 0),
        (2, 1, Result.LOSE, 10, 0),
        (3, 0, Result.PUSH, 10, 10),
    ]
    assert round_.outcome is not None and round_.outcome.dealer.is_blackjack


def test_no_peek_surrender_is_lost_to_a_dealer_blackjack() -> None:
    """Without a peek, surrendering against what turns out to be a blackjack loses the whole bet."""
    round_ = dealt(["TS 6H"], "TC", then="AH", dealer_peek=False, surrender=True)
    round_.act(Action.SURRENDER)
    assert _results(round_) == [(1, 0, Result.LOSE, 10, 0)]


# -- surrender ------------------------------------------------------------------


def test_surrender_returns_half_the_bet_rounded_down() -> None:
    """Late surrender gives back half the stake, rounding an odd bet down."""
    round_ = dealt(["TS 6H"], "9C 8D", bets={1: 15}, surrender=True)
    round_.act(Action.SURRENDER)
    assert _results(round_) == [(1, 0, Result.SURRENDER, 15, 7)]


def test_surrender_is_allowed_after_declining_insurance() -> None:
    """Late surrender comes after the peek, so it remains open once insurance is declined."""
    round_ = dealt(["TS 6H"], "AC 8D", surrender=True)
    round_.act(Action.NO_INSURANCE)
    assert Action.SURRENDER in round_.legal_actions()


def test_no_surrender_on_three_cards() -> None:
    """Surrender is only a first decision: not after a hit."""
    round_ = dealt(["2S 3H"], "9C 8D", then="4D", surrender=True)
    round_.act(Action.HIT)
    assert "only as the first decision" in _why(round_, Action.SURRENDER)


def test_no_surrender_after_a_split() -> None:
    """A hand made by splitting cannot be surrendered."""
    round_ = dealt(["8S 8H"], "9C 8D", then="5D", surrender=True)
    round_.act(Action.SPLIT)
    assert "only as the first decision" in _why(round_, Action.SURRENDER)


def test_no_surrender_where_the_table_does_not_offer_it() -> None:
    """Surrender is illegal when the rules leave it out."""
    round_ = dealt(["TS 6H"], "9C 8D")
    assert _why(round_, Action.SURRENDER) == "cannot surrender: no surrender at this table"


# -- doubling -------------------------------------------------------------------


def test_double_doubles_the_stake_takes_one_card_and_stands() -> None:
    """Doubling stakes the bet again, deals exactly one card and ends the hand."""
    round_ = dealt(["6S 5H", "TS 8C"], "9C 8D", then="2C")
    round_.act(Action.DOUBLE)
    assert round_.stake(1) == 20 and str(round_.hands(1)[0]) == "6S 5H 2C"
    assert round_.turn == Turn(2, 0)


def test_no_double_or_split_on_three_cards() -> None:
    """Once a hand has three cards neither double nor split is offered, even on a pair plus one."""
    round_ = dealt(["4S 4H"], "9C TC", then="2D")
    round_.act(Action.HIT)
    assert _why(round_, Action.DOUBLE) == "cannot double: hand has 3 cards"
    assert _why(round_, Action.SPLIT) == "cannot split: hand has 3 cards"


@pytest.mark.parametrize("das", [True, False])
def test_double_after_split_follows_the_rules(das: bool) -> None:
    """A split hand may be doubled only at a double-after-split table."""
    round_ = dealt(["8S 8H"], "9C TC", then="3D", double_after_split=das)
    round_.act(Action.SPLIT)
    assert round_.hands(1)[0].total == 11
    if das:
        assert Action.DOUBLE in round_.legal_actions()
    else:
        assert _why(round_, Action.DOUBLE) == \
            "cannot double: no doubling after a split at this table"


@pytest.mark.parametrize("rule, cards, allowed", [
    (DoubleRule.NINE_TO_ELEVEN, "5S 4H", True),
    (DoubleRule.NINE_TO_ELEVEN, "6S 5H", True),
    (DoubleRule.NINE_TO_ELEVEN, "6S 2H", False),
    (DoubleRule.NINE_TO_ELEVEN, "TS 2H", False),
    (DoubleRule.NINE_TO_ELEVEN, "AS 8H", False),
    (DoubleRule.TEN_ELEVEN, "5S 4H", False),
    (DoubleRule.TEN_ELEVEN, "6S 4H", True),
    (DoubleRule.TEN_ELEVEN, "AS 9H", False),
])
def test_double_restricted_to_hard_totals(rule: DoubleRule, cards: str, allowed: bool) -> None:
    """At a 9-11 or 10-11 table only those hard two-card totals may double."""
    round_ = dealt([cards], "9C 8D", double=rule)
    if allowed:
        assert Action.DOUBLE in round_.legal_actions()
    else:
        hand = round_.hands(1)[0]
        kind = "soft" if hand.is_soft else "hard"
        assert _why(round_, Action.DOUBLE) == (
            f"cannot double: this table doubles on {rule.value} only, not {kind} {hand.total}")


# -- splitting ------------------------------------------------------------------


def test_split_hands_are_played_in_order_each_getting_its_second_card_in_turn() -> None:
    """Split hands play left to right; the second hand's card comes when its turn starts."""
    round_ = dealt(["8S 8H"], "9C TC", then="3D 4C")
    round_.act(Action.SPLIT)
    assert _hands(round_) == ["8S 3D", "8H"]
    assert round_.stake(1, 0) == round_.stake(1, 1) == 10
    round_.act(Action.STAND)
    assert _hands(round_) == ["8S 3D", "8H 4C"]
    assert round_.turn == Turn(1, 1)


def test_21_after_a_split_is_paid_as_a_win_not_blackjack() -> None:
    """Ace and ten made by splitting aces or tens pays 1:1, not the blackjack payout."""
    aces = dealt(["AS AH"], "9C TC", then="KD QC")
    aces.act(Action.SPLIT)
    tens = dealt(["KS QH"], "9C TC", then="AD AC")
    tens.act(Action.SPLIT)
    for round_ in (aces, tens):
        assert _results(round_) == [(1, 0, Result.WIN, 10, 20), (1, 1, Result.WIN, 10, 20)]
        assert not any(h.is_blackjack for h in round_.hands(1))


def test_split_aces_get_one_card_each() -> None:
    """Each split ace takes exactly one card and the turn moves on to the next seat."""
    round_ = dealt(["AS AH", "TS 8C"], "9C TC", then="5D 7C")
    round_.act(Action.SPLIT)
    assert _hands(round_) == ["AS 5D", "AH 7C"]
    assert round_.turn == Turn(2, 0)


def test_split_aces_drawing_an_ace_stand_without_resplit() -> None:
    """Without resplitting aces, a split ace that draws another ace is done."""
    round_ = dealt(["AS AH"], "9C TC", then="AD 7C")
    round_.act(Action.SPLIT)
    assert round_.phase is Phase.FINISHED
    assert _hands(round_) == ["AS AD", "AH 7C"]


def test_resplit_aces_when_the_table_allows() -> None:
    """With resplit aces, a split ace that draws an ace may split again but not hit or double."""
    round_ = dealt(["AS AH"], "9C TC", then="AD 5C 7H 8S", resplit_aces=True)
    round_.act(Action.SPLIT)
    assert round_.turn == Turn(1, 0)
    assert round_.legal_actions() == {Action.STAND, Action.SPLIT}
    assert _why(round_, Action.HIT) == "cannot hit: split aces get one card each"
    assert _why(round_, Action.DOUBLE) == "cannot double: split aces get one card each"
    round_.act(Action.SPLIT)
    assert round_.phase is Phase.FINISHED
    assert _hands(round_) == ["AS 5C", "AD 7H", "AH 8S"]
    assert round_.outcome is not None and round_.outcome.staked(1) == 30


def test_no_resplit_of_aces_when_the_table_forbids_it() -> None:
    """Resplitting aces is refused where the rules say no, even on hit-split-aces tables."""
    round_ = dealt(["AS AH"], "9C TC", then="AD 7C", hit_split_aces=True)
    round_.act(Action.SPLIT)
    assert _why(round_, Action.SPLIT) == "cannot split: no resplitting aces at this table"


def test_hit_split_aces_when_the_table_allows() -> None:
    """With hit split aces, a split ace may take more cards like any hand."""
    round_ = dealt(["AS AH"], "9C TC", then="5D 2C 7H", hit_split_aces=True)
    round_.act(Action.SPLIT)
    assert Action.HIT in round_.legal_actions()
    round_.act(Action.HIT)
    assert str(round_.hands(1)[0]) == "AS 5D 2C"


def test_split_limit_caps_the_number_of_hands() -> None:
    """A seat cannot split into more hands than max_split_hands."""
    round_ = dealt(["8S 8H"], "9C TC", then="8D 8C", max_split_hands=2)
    round_.act(Action.SPLIT)
    assert _why(round_, Action.SPLIT) == "cannot split: already 2 hands, the table's limit"
    four = dealt(["8S 8H"], "9C TC", then="8D 8C 8C 2D")
    four.act(Action.SPLIT)
    four.act(Action.SPLIT)
    four.act(Action.SPLIT)
    assert len(four.hands(1)) == 4
    assert _why(four, Action.SPLIT) == "cannot split: already 4 hands, the table's limit"


def test_no_splitting_at_a_one_hand_table() -> None:
    """max_split_hands=1 refuses every split."""
    round_ = dealt(["8S 8H"], "9C TC", max_split_hands=1)
    assert _why(round_, Action.SPLIT) == "cannot split: no splitting at this table"


def test_any_two_ten_cards_split_but_unequal_cards_do_not() -> None:
    """King-queen is a pair for splitting; nine-eight is not."""
    assert Action.SPLIT in dealt(["KS QH"], "9C TC").legal_actions()
    assert _why(dealt(["9S 8H"], "9C TC"), Action.SPLIT) == \
        "cannot split: the two cards are not a pair"


# -- turns ----------------------------------------------------------------------


def test_turns_go_seat_by_seat_and_hand_by_hand() -> None:
    """Seats play in seat order, and a seat plays all its split hands before the next seat."""
    round_ = dealt(["8S 8H", "TS 2C"], "9C 8D", then="3D 4C 5S", bets={2: 10, 5: 10})
    turns = [round_.turn]
    for action in (Action.SPLIT, Action.STAND, Action.STAND, Action.HIT, Action.STAND):
        round_.act(action)
        turns.append(round_.turn)
    assert turns == [Turn(2, 0), Turn(2, 0), Turn(2, 1), Turn(5, 0), Turn(5, 0), None]


def test_acting_out_of_turn_raises_not_your_turn() -> None:
    """A seat acting while another seat plays gets NotYourTurnError and nothing changes."""
    round_ = dealt(["TS 6H", "TS 2C"], "9C 8D", then="5D")
    with pytest.raises(NotYourTurnError, match="seat 1 is playing"):
        round_.act(Action.HIT, seat=2)
    assert round_.legal_actions(2) == frozenset()
    assert round_.why_illegal(Action.HIT, 2) == "cannot hit: it is seat 1's turn"
    assert [str(h) for s in (1, 2) for h in round_.hands(s)] == ["TS 6H", "TS 2C"]
    round_.act(Action.HIT, seat=1)
    assert str(round_.hands(1)[0]) == "TS 6H 5D"


def test_hitting_to_21_stands_automatically() -> None:
    """A hand that reaches 21 ends its turn without a stand."""
    round_ = dealt(["5S 6H", "TS 7C"], "9C 8D", then="TD")
    round_.act(Action.HIT)
    assert round_.hands(1)[0].total == 21
    assert round_.turn == Turn(2, 0)


def test_a_split_hand_dealt_21_stands_automatically() -> None:
    """A split hand whose second card makes 21 is done at once."""
    round_ = dealt(["TS TH", "9S 7C"], "9C 8D", then="AD 5C")
    round_.act(Action.SPLIT)
    assert round_.turn == Turn(1, 1) and str(round_.hands(1)[1]) == "TH 5C"


def test_no_play_before_the_deal_or_after_the_end() -> None:
    """Actions are refused while betting and once the round is over."""
    round_ = Round(Rules(), StackedShoe("TS 9C 7C 8D"), {1: 10})
    assert round_.why_illegal(Action.HIT) == "cannot hit: the cards are not dealt yet"
    assert round_.turn is None and round_.legal_actions() == frozenset()
    round_.deal()
    round_.act(Action.STAND)
    assert _why(round_, Action.STAND) == "cannot stand: the round is over"


# -- the dealer -----------------------------------------------------------------


@pytest.mark.parametrize("h17, dealer_final, result", [
    (True, "6D AC 4S", Result.LOSE),
    (False, "6D AC", Result.WIN),
])
def test_dealer_hits_soft_17_only_at_an_h17_table(h17: bool, dealer_final: str,
                                                  result: Result) -> None:
    """On soft 17 an H17 dealer draws and an S17 dealer stands."""
    round_ = dealt(["TS 8H"], "6D AC", then="4S", dealer_hits_soft_17=h17)
    round_.act(Action.STAND)
    assert round_.outcome is not None
    assert str(round_.outcome.dealer) == dealer_final
    assert _results(round_)[0][2] is result


@pytest.mark.parametrize("h17", [True, False])
def test_dealer_stands_on_hard_17_and_draws_to_16(h17: bool) -> None:
    """Every dealer stands on hard 17 and draws on 16."""
    round_ = dealt(["TS 8H"], "TD 6C", then="AS 5H", dealer_hits_soft_17=h17)
    round_.act(Action.STAND)
    assert round_.outcome is not None
    assert str(round_.outcome.dealer) == "TD 6C AS"


def test_dealer_does_not_draw_when_every_hand_is_bust() -> None:
    """With no live hand left the dealer turns the hole card and stops."""
    round_ = dealt(["TS 6H"], "9C 5D", then="KD 2C")
    round_.act(Action.HIT)
    assert round_.outcome is not None
    assert str(round_.outcome.dealer) == "9C 5D"
    assert _results(round_) == [(1, 0, Result.BUST, 10, 0)]


def test_dealer_bust_pays_every_standing_hand() -> None:
    """A busted dealer pays 1:1 to every hand still standing, whatever its total."""
    round_ = dealt(["TS 2H", "9S 9C"], "TD 6C", then="KS")
    round_.act(Action.STAND)
    round_.act(Action.STAND)
    assert [r[2] for r in _results(round_)] == [Result.WIN, Result.WIN]


# -- chips ----------------------------------------------------------------------


def test_cost_says_what_each_action_would_stake() -> None:
    """cost() is the hand's stake for double and split, half the bet for insurance, else 0."""
    round_ = dealt(["8S 8H", "9S 7H"], "9C TC", bets={1: 20, 2: 40})
    assert round_.cost(Action.DOUBLE) == round_.cost(Action.SPLIT) == 20
    assert round_.cost(Action.HIT) == round_.cost(Action.STAND) == 0
    assert round_.cost(Action.SURRENDER) == 0
    assert round_.cost(Action.DOUBLE, seat=2) == 0   # not seat 2's turn: nothing to stake


def test_cost_of_insurance_is_half_the_bet_rounded_down() -> None:
    """Insurance costs half the bet, rounded down; even money costs nothing more."""
    round_ = dealt(["9S 7H", "AS KD"], "AC 7D", bets={1: 25, 2: 10}, min_bet=1)
    assert round_.cost(Action.INSURANCE, seat=1) == 12
    assert round_.cost(Action.EVEN_MONEY, seat=2) == 0
    round_.act(Action.INSURANCE, seat=1)
    round_.act(Action.EVEN_MONEY, seat=2)
    assert round_.outcome is None
    round_.act(Action.STAND)
    assert round_.outcome is not None
    assert round_.outcome.insurance[0].stake == 12


def test_cost_of_doubling_a_split_hand_is_that_hand_stake() -> None:
    """After a split, double costs the split hand's own stake."""
    round_ = dealt(["8S 8H"], "9C TC", then="3D 5C 2H", bets={1: 30})
    round_.act(Action.SPLIT)
    assert round_.cost(Action.DOUBLE) == 30
    round_.act(Action.DOUBLE)
    assert round_.stake(1, 0) == 60


def test_outcome_is_none_until_the_round_is_settled() -> None:
    """outcome stays None while betting, during insurance and play, and is set when finished."""
    round_ = Round(Rules(), StackedShoe("9S AC 7H 7D 2C"), {1: 10})
    assert round_.outcome is None
    round_.deal()
    assert round_.phase is Phase.INSURANCE and round_.outcome is None
    round_.act(Action.NO_INSURANCE)
    assert round_.phase is Phase.PLAYING and round_.outcome is None
    round_.act(Action.STAND)
    assert round_.phase is Phase.FINISHED and round_.outcome is not None
    assert round_.outcome.net(1) == -10


# -- events and views -----------------------------------------------------------


def test_events_of_a_simple_round() -> None:
    """A one-seat stand-and-push round records deal, turn, action, reveal, dealer, result."""
    round_ = dealt(["TS 7C"], "9H 8D")
    round_.act(Action.STAND)
    assert [e.to_dict() for e in round_.events] == [
        {"event": "deal", "seat": 1, "hand": 0, "card": "TS", "total": 10},
        {"event": "deal", "card": "9H", "total": 9},
        {"event": "deal", "seat": 1, "hand": 0, "card": "7C", "total": 17},
        {"event": "deal", "card": "??"},
        {"event": "turn", "seat": 1, "hand": 0, "total": 17,
         "legal": ["hit", "stand", "double"]},
        {"event": "action", "seat": 1, "hand": 0, "action": "stand"},
        {"event": "reveal", "card": "8D", "total": 17},
        {"event": "dealer", "total": 17, "cards": ["9H", "8D"], "blackjack": False,
         "bust": False},
        {"event": "result", "dealer": ["9H", "8D"], "dealer_total": 17,
         "hands": [{"seat": 1, "hand": 0, "cards": ["TS", "7C"], "total": 17, "stake": 10,
                    "result": "push", "payout": 10, "net": 0}],
         "insurance": [], "net": {"1": 0}},
    ]
    assert list(round_) == round_.events


def test_view_hides_the_hole_card_and_its_value_until_revealed() -> None:
    """The view shows the upcard, ?? and the upcard's value only, then both cards at the end."""
    round_ = dealt(["TS 7C"], "AH 9D")
    view = round_.view()
    assert view.dealer == ("AH", "??") and view.dealer_total == 11
    assert view.phase is Phase.INSURANCE and view.legal == ("insurance", "no")
    round_.act(Action.NO_INSURANCE)
    round_.act(Action.STAND)
    view = round_.view()
    assert view.dealer == ("AH", "9D") and view.dealer_total == 20
    assert view.seats[0].hands[0].status == "done"


def test_cards_go_back_to_the_shoe_when_the_round_ends() -> None:
    """A settled round has nothing out on the table; its cards are in the discard tray."""
    round_ = dealt(["TS 7C"], "9H 8D")
    assert len(round_.cards_out()) == 4
    round_.act(Action.STAND)
    assert round_.cards_out() == [] and round_.shoe.discarded == 4


def test_actions_parse_from_words_and_aliases() -> None:
    """Action.parse reads command words and short aliases, and names the choices otherwise."""
    assert Action.parse(" Hit ") is Action.HIT
    assert Action.parse("p") is Action.SPLIT
    assert Action.parse("even") is Action.EVEN_MONEY
    assert Action.parse("n") is Action.NO_INSURANCE
    with pytest.raises(IllegalActionError, match="unknown action 'fold'"):
        Action.parse("fold")


def test_act_takes_the_command_word() -> None:
    """Round.act("hit") plays a hit, as Action.HIT does; an unknown word is IllegalActionError."""
    round_ = dealt(["TS 6C"], "9H 8D", then="3S")
    round_.act("hit")
    assert _hands(round_) == ["TS 6C 3S"]
    with pytest.raises(IllegalActionError, match="unknown action 'fold'"):
        round_.act("fold")
    round_.act("stand")
    assert _results(round_) == [(1, 0, Result.WIN, 10, 20)]


def test_a_round_takes_a_rules_spec() -> None:
    """Round("vegas", shoe) plays under the vegas preset; a bad spec is a RulesError."""
    assert Round("vegas", StackedShoe("2S")).rules == PRESETS["vegas"]
    with pytest.raises(RulesError, match="unknown rule 'fast'"):
        Round("fast", StackedShoe("2S"))


@settings(max_examples=150, deadline=None)
@given(rules=rules_values(), seed=st.integers(0, 2**32 - 1))
def test_a_hands_kept_score_is_its_cards_score_at_every_step(rules: Rules, seed: int) -> None:
    """Each hand in play, and the dealer's, keeps its total and softness between cards
    (views ask often); after the deal and every action they equal the score of its cards
    worked out anew."""
    from blackjack.hand import _card_score

    rng = random.Random(seed)
    shoe = Shoe(rules.decks, rng=random.Random(seed))
    round_ = Round(rules, shoe, {seat: rules.min_bet for seat in range(1, rng.randint(2, 8))})

    def check(r: Round) -> None:
        for boxes in r._boxes.values():
            for box in boxes:
                assert box.score() == _card_score(box.cards)
        assert r._dealer_score == _card_score(r._dealer)

    play(round_, random_policy(rng), after_each=check)


@settings(max_examples=150, deadline=None)
@given(rules=rules_values(), seed=st.integers(0, 2**32 - 1))
def test_legal_actions_are_those_why_illegal_has_no_reason_against(rules: Rules,
                                                                    seed: int) -> None:
    """legal_actions, legal_names, why_illegal and the turn event (kept for the turn
    between changes) say what the plain checks of every action say, worked out anew, for
    every seat and for whoever has the turn, at every step; and view_data (the prompts'
    view) is view().to_dict()."""
    rng = random.Random(seed)
    shoe = Shoe(rules.decks, rng=random.Random(seed))
    seats = range(1, rng.randint(2, 8))
    round_ = Round(rules, shoe, {seat: rules.min_bet for seat in seats})

    def check(r: Round) -> None:
        assert r.view_data() == r.view().to_dict()
        for seat in [None, *seats]:
            reasons = {a: r._why_illegal(a, seat) for a in Action}  # the plain checks
            slow = [a for a in Action if reasons[a] is None]
            assert r.legal_actions(seat) == frozenset(slow)
            assert r.legal_names(seat) == [a.value for a in slow]
            assert {a: r.why_illegal(a, seat) for a in Action} == reasons
        if r.events and r.events[-1].kind == "turn":  # a turn began, and nothing since
            assert r.events[-1].detail["legal"] == r.legal_names()

    check(round_)  # betting, before the deal
    play(round_, random_policy(rng), after_each=check)
