// What the page knows of the card room, kept up to date from the server's events.
//
// Game.apply(event) changes the state for one event of the protocol's
// catalogue; nothing here touches the page.  The round is rebuilt from the
// events anyone at the table receives (deal, action, reveal...), and put
// right from the full view whenever one arrives (table, prompt, decide), so a
// page that reloads mid-round draws the same table.

export class Game {
  constructor(now = () => Date.now()) {
    this.now = now;
    this.me = null;
    this.balance = null;
    this.tables = [];
    this.table = null;
    this.chat = [];
  }

  apply(event) {
    const handler = this[`on_${event.event}`];
    if (handler) handler.call(this, event);
  }

  /** My seat at the table, if I sit there. */
  mySeat() {
    if (!this.table || !this.me) return null;
    for (const [seat, name] of Object.entries(this.table.seats)) {
      if (name === this.me) return Number(seat);
    }
    return null;
  }

  deadline(seconds) {
    return this.now() + seconds * 1000;
  }

  // -- you ------------------------------------------------------------------------

  loggedIn(result) {
    this.me = result.name;
    this.balance = result.balance;
    if (!result.table) this.table = null;
  }

  on_login(e) { this.loggedIn(e); }
  on_balance(e) { this.balance = e.balance; }
  on_tables(e) { this.tables = e.tables; }

  // -- seats -------------------------------------------------------------------------

  on_table(e) {
    const old = this.table && this.table.name === e.name ? this.table : null;
    this.table = {
      name: e.name, rules: e.rules, min: e.min, max: e.max, seats: { ...e.seats },
      of: e.of, phase: e.phase, bets: { ...e.bets },
      away: old ? old.away : new Set(),
      betting: old && e.phase === "betting" ? old.betting : null,
      round: null, prompt: null, decide: null, result: null,
    };
    if (e.round) this.syncRound(e.round);
  }

  on_joined(e) {
    if (this.table) this.table.seats[e.seat] = e.player;
  }

  on_left(e) {
    const t = this.table;
    if (!t) return;
    if (e.player === this.me) {
      this.table = null;
      return;
    }
    if (e.seat !== null) {
      delete t.seats[e.seat];
      t.away.delete(e.seat);
    }
  }

  on_away(e) { if (this.table) this.table.away.add(e.seat); }
  on_back(e) { if (this.table) this.table.away.delete(e.seat); }

  on_say(e) {
    this.chat.push({ player: e.player, text: e.text });
    if (this.chat.length > 100) this.chat.shift();
  }

  // -- the round ----------------------------------------------------------------------

  on_betting(e) {
    const t = this.table;
    if (!t) return;
    t.phase = "betting";
    t.betting = { round: e.round, deadline: this.deadline(e.seconds), min: e.min, max: e.max };
    t.bets = {};
    t.prompt = null;
    t.decide = null;
    // The last round stays on the table, with its results, until the next is dealt.
    if (!t.result) t.round = null;
  }

  on_bet(e) { if (this.table) this.table.bets[e.seat] = e.amount; }

  round() {
    const t = this.table;
    if (!t.round || t.result) {
      t.round = { dealer: [], dealerTotal: null, hands: {}, turn: null, insurance: null };
      t.betting = null;
      t.phase = "playing";
      t.result = null;
    }
    return t.round;
  }

  hand(seat, index) {
    const hands = this.round().hands;
    const mine = hands[seat] || (hands[seat] = []);
    if (!mine[index]) {
      mine[index] = { cards: [], total: 0, stake: this.table.bets[seat] || 0,
                      status: "playing", result: null };
    }
    return mine[index];
  }

  on_deal(e) {
    if (!this.table) return;
    if (e.seat === null) {
      const r = this.round();
      r.dealer.push(e.card);
      if (e.total !== null) r.dealerTotal = e.total;
      return;
    }
    const hand = this.hand(e.seat, e.hand);
    hand.cards.push(e.card);
    hand.total = e.total;
    const hands = this.table.round.hands[e.seat];
    if (hands.length === 1 && hand.cards.length === 2 && e.total === 21) hand.status = "blackjack";
  }

  on_insurance(e) { if (this.table) this.round().insurance = e.seats; }

  on_decide(e) {
    if (!this.table) return;
    this.syncRound(e.view);
    this.table.decide = { seats: e.seats, legal: e.legal, deadline: this.deadline(e.seconds) };
  }

  on_decision(e) {
    const d = this.table && this.table.decide;
    if (d) {
      d.seats = d.seats.filter((s) => s !== e.seat);
      if (!d.seats.length) this.table.decide = null;
    }
  }

  on_turn(e) {
    if (!this.table) return;
    const r = this.round();
    r.insurance = null;
    r.turn = { seat: e.seat, hand: e.hand, deadline: this.deadline(e.seconds) };
    const p = this.table.prompt;
    if (p && (p.seat !== e.seat || p.hand !== e.hand)) this.table.prompt = null;
  }

  on_prompt(e) {
    if (!this.table) return;
    this.syncRound(e.view);
    const deadline = this.deadline(e.seconds);
    this.table.round.turn = { seat: e.seat, hand: e.hand, deadline };
    this.table.prompt = { seat: e.seat, hand: e.hand, legal: e.legal, deadline };
  }

  on_action(e) {
    if (!this.table) return;
    const hand = this.hand(e.seat, e.hand);
    if (e.action === "stand") hand.status = "done";
    if (e.action === "surrender") hand.status = "surrendered";
    if (e.action === "double") {
      hand.status = "doubled";
      hand.stake = e.stake;
    }
    if (e.action === "split") {
      // The second card becomes a new hand right after this one (the engine's numbering).
      const hands = this.round().hands[e.seat];
      hands.splice(e.hand + 1, 0, { cards: [hand.cards.pop()], total: 0, stake: e.stake,
                                     status: "playing", result: null });
      hand.stake = e.stake;
    }
    this.clearPrompt(e.seat, e.hand);
  }

  on_timeout(e) {
    if (!this.table) return;
    if (e.hand === null) this.on_decision(e);
    else this.clearPrompt(e.seat, e.hand);
  }

  clearPrompt(seat, hand) {
    const p = this.table.prompt;
    if (p && p.seat === seat && p.hand === hand) this.table.prompt = null;
  }

  on_reveal(e) {
    if (!this.table) return;
    const r = this.round();
    if (r.dealer.length > 1) r.dealer[1] = e.card;
    else r.dealer.push(e.card);
    r.dealerTotal = e.total;
    r.turn = null;
  }

  on_dealer(e) {
    if (!this.table) return;
    const r = this.round();
    r.dealer = [...e.cards];
    r.dealerTotal = e.total;
  }

  on_result(e) {
    const t = this.table;
    if (!t) return;
    const r = this.round();
    r.dealer = [...e.dealer];
    r.dealerTotal = e.dealer_total;
    r.turn = null;
    r.insurance = null;
    for (const result of e.hands) {
      const hand = this.hand(result.seat, result.hand);
      hand.cards = [...result.cards];
      hand.total = result.total;
      hand.stake = result.stake;
      hand.result = result;
    }
    t.phase = "idle";
    t.prompt = null;
    t.decide = null;
    t.result = e;
  }

  /** Put the round right from a full view (the server's word on every hand). */
  syncRound(view) {
    const r = this.round();
    r.dealer = [...view.dealer];
    r.dealerTotal = view.dealer_total;
    const hands = {};
    for (const seat of view.seats) {
      hands[seat.seat] = seat.hands.map((hand) => ({
        cards: [...hand.cards], total: hand.total, stake: hand.stake, status: hand.status,
        result: null,
      }));
      if (!(seat.seat in this.table.bets)) this.table.bets[seat.seat] = seat.bet;
    }
    r.hands = hands;
    r.turn = view.turn ? { ...view.turn, deadline: r.turn ? r.turn.deadline : null } : null;
    if (view.phase === "insurance") r.insurance = view.seats.map((s) => s.seat);
  }
}
