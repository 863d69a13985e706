// Drawing the state on the page: the lobby, the table with its seven seats,
// and the controls for what you may do now.
//
// The seats and the dealer are redrawn from the state; the controls are
// fixed elements only shown or hidden, so the focus of a keyboard player is
// never lost when the table changes.

import { cardRow } from "./cards.js";
import { byId, fill, h, setText, signed } from "./dom.js";
import { explainRules } from "./rules.js";

const SEATS = [1, 2, 3, 4, 5, 6, 7];
const STATUS = {
  playing: "", done: "stands", doubled: "doubled", bust: "bust", blackjack: "blackjack",
  surrendered: "surrendered", "even money": "even money",
};
const CHIP_VALUES = [1, 2, 5, 10, 25, 50, 100, 500, 1000, 5000, 10000];

/** The chip values offered at a table: up to five, from the minimum bet up to the maximum. */
export function chipValues(min, max) {
  const values = CHIP_VALUES.filter((v) => v >= min && v <= max).slice(0, 5);
  return values.length ? values : [min];
}

export function renderAccount(game) {
  byId("account").hidden = !game.me;
  setText(byId("me"), game.me || "");
  setText(byId("balance"), game.balance === null ? "\u2013" : String(game.balance));
}

export function renderLobby(game, { onSit, onWatch }) {
  const rows = game.tables.map((t, index) => {
    const players = Object.entries(t.seats).map(([seat, name]) => `${seat}: ${name}`).join(", ");
    const sit = h("button", { type: "button", class: index === 0 ? "primary" : null,
                              "aria-label": `Sit at ${t.name}` }, "Sit");
    sit.disabled = t.taken >= t.of;
    sit.addEventListener("click", () => onSit(t.name));
    const watch = h("button", { type: "button", "aria-label": `Watch ${t.name}` }, "Watch");
    watch.addEventListener("click", () => onWatch(t.name));
    return h("tr", {},
      h("th", { scope: "row" }, t.name),
      h("td", {}, h("span", { class: "short" }, t.rules),
        h("span", { class: "words" }, explainRules(t.rules))),
      h("td", {}, `${t.min}\u2013${t.max}`),
      h("td", {}, `${t.taken}/${t.of}`),
      h("td", {}, players || "nobody yet"),
      h("td", { class: "buttons" }, sit, " ", watch));
  });
  fill(byId("tables-body"), ...rows);
}

function handView(hand, label) {
  const result = hand.result;
  const status = result ? "" : STATUS[hand.status] || "";
  return h("div", { class: `hand ${hand.status}` },
    cardRow(hand.cards, label),
    h("p", { class: "total" }, hand.cards.length ? String(hand.total) : "",
      status ? ` \u00b7 ${status}` : ""),
    hand.stake ? h("p", { class: "stake" }, `stake ${hand.stake}`) : null,
    result ? h("p", { class: `result ${result.net > 0 ? "won" : result.net < 0 ? "lost" : "push"}` },
      `${result.result} ${signed(result.net)}`) : null);
}

function seatView(game, seat, { onSitAt }) {
  const t = game.table;
  const name = t.seats[seat];
  const round = t.round;
  const hands = round && round.hands[seat] ? round.hands[seat] : [];
  const turn = round && round.turn && round.turn.seat === seat;
  const mine = name && name === game.me;
  const classes = ["seat", mine ? "mine" : "", turn ? "turn" : "", name ? "" : "empty",
                   t.away.has(seat) ? "away" : ""].filter(Boolean).join(" ");
  const children = [h("h3", {}, `Seat ${seat}`)];
  if (!name) {
    if (game.mySeat() === null) {
      const sit = h("button", { type: "button", "aria-label": `Sit in seat ${seat}` }, "Sit here");
      sit.addEventListener("click", () => onSitAt(seat));
      children.push(sit);
    } else {
      children.push(h("p", { class: "nobody" }, "empty"));
    }
    return h("li", { class: classes }, ...children);
  }
  children.push(h("p", { class: "name" }, mine ? `${name} (you)` : name,
                  t.away.has(seat) ? " \u00b7 away" : ""));
  const bet = t.bets[seat];
  if (bet && (!hands.length || t.betting)) children.push(h("p", { class: "bet" }, `bet ${bet}`));
  hands.forEach((hand, index) => {
    const label = `${mine ? "Your" : `${name}'s`} hand${hands.length > 1 ? ` ${index + 1}` : ""}`;
    const view = handView(hand, label);
    if (turn && round.turn.hand === index) view.classList.add("active");
    children.push(view);
  });
  return h("li", { class: classes, "aria-current": turn ? "true" : null }, ...children);
}

export function renderTable(game, handlers) {
  const t = game.table;
  setText(byId("table-title"), `Table ${t.name}`);
  setText(byId("table-rules"), explainRules(t.rules));
  const round = t.round;
  const dealer = round ? round.dealer : [];
  fill(byId("dealer-cards"), dealer.length ? cardRow(dealer, "Dealer's cards") : null);
  setText(byId("dealer-total"), round && round.dealerTotal !== null && dealer.length
    ? `${dealer.includes("??") ? "showing " : ""}${round.dealerTotal}` : "");
  fill(byId("seats"), ...SEATS.map((seat) => seatView(game, seat, handlers)));
  const mySeat = game.mySeat();
  byId("watching-note").hidden = mySeat !== null;
  byId("leave-button").textContent = mySeat === null ? "Stop watching" : "Leave table";
}

/** The phase line and its countdown, and which controls show. */
export function renderControls(game, pendingBet) {
  const t = game.table;
  const mySeat = game.mySeat();
  const round = t.round;
  const now = game.now();
  let phase = "Waiting for players";
  let deadline = null;
  if (t.betting) {
    phase = "Place your bets";
    deadline = t.betting.deadline;
  } else if (t.decide) {
    phase = "Insurance?";
    deadline = t.decide.deadline;
  } else if (t.prompt) {
    phase = "Your move";
    deadline = t.prompt.deadline;
  } else if (round && round.insurance) {
    phase = "Insurance is offered";
  } else if (round && round.turn) {
    phase = `${t.seats[round.turn.seat] || `Seat ${round.turn.seat}`} to play`;
    deadline = round.turn.deadline;
  } else if (t.result) {
    const mine = t.result.hands.filter((r) => r.player === game.me);
    const net = mine.reduce((sum, r) => sum + r.net, 0);
    phase = mine.length ? `Round over: you ${net > 0 ? "win" : net < 0 ? "lose" : "push"} ${signed(net)}`
      : "Round over";
  } else if (round) {
    phase = "Dealing";
  }
  setText(byId("phase"), phase);
  setText(byId("countdown"), deadline ? `${Math.max(0, Math.ceil((deadline - now) / 1000))} s` : "");

  const canBet = Boolean(t.betting && mySeat !== null && !(mySeat in t.bets));
  const bets = byId("bet-controls");
  if (canBet && bets.hidden) renderChips(t);
  bets.hidden = !canBet;
  if (canBet) {
    setText(byId("bet-amount"), String(pendingBet));
    setText(byId("bet-range"), `(${t.min}\u2013${t.max})`);
    byId("bet-button").disabled = pendingBet < t.min || pendingBet > t.max;
  }

  const legal = t.decide ? t.decide.legal : t.prompt ? t.prompt.legal : [];
  byId("action-controls").hidden = legal.length === 0;
  for (const button of document.querySelectorAll("#action-controls [data-action]")) {
    button.hidden = !legal.includes(button.dataset.action);
  }
  byId("hint-button").hidden = !t.prompt;
  if (!legal.length) setText(byId("hint"), "");
}

function renderChips(t) {
  fill(byId("chips"), ...chipValues(t.min, t.max).map((value, index) =>
    h("button", { type: "button", class: `chip chip-${index + 1}`, "data-chip": value,
                  "aria-label": `Add ${value} (key ${index + 1})` }, String(value))));
}

export function addLog(text, { limit = 80 } = {}) {
  const log = byId("log");
  log.append(h("li", {}, text));
  while (log.children.length > limit) log.firstElementChild.remove();
  log.scrollTop = log.scrollHeight;
}

export function addChat(player, text) {
  const log = byId("chat-log");
  // Both the name and the words came from players: text nodes only.
  log.append(h("li", {}, h("strong", { class: "who" }, player), " ", h("span", { class: "said" }, text)));
  while (log.children.length > 100) log.firstElementChild.remove();
  log.scrollTop = log.scrollHeight;
}

export function renderHint(hint) {
  const values = Object.entries(hint.values)
    .sort((a, b) => b[1] - a[1])
    .map(([action, value]) => `${action} ${value >= 0 ? "+" : "\u2212"}${Math.abs(value).toFixed(3)}`);
  setText(byId("hint"), `Best play: ${hint.action}.`
    + (values.length ? ` Expected return per chip: ${values.join(", ")}.` : ""));
}

export function renderHistory(hands, me) {
  const rows = hands.map((r) => {
    const mine = r.mine.map((hand) => hand.cards.join(" ")).join(" / ");
    return h("tr", {},
      h("td", {}, new Date(r.when * 1000).toLocaleString()),
      h("td", {}, r.table),
      h("td", {}, mine),
      h("td", {}, r.dealer.join(" ")),
      h("td", {}, String(r.staked)),
      h("td", { class: r.net > 0 ? "won" : r.net < 0 ? "lost" : "" }, signed(r.net)),
      h("td", {}, h("button", { type: "button", "data-hand": String(r.id) }, `#${r.id}`)));
  });
  fill(byId("history-body"), ...(rows.length ? rows
    : [h("tr", {}, h("td", { colspan: "7" }, `No hands yet, ${me}.`))]));
}

/** Start a hand's replay: what it was, and no step shown yet. */
export function renderReplay(hand) {
  const shoe = hand.shoe === null ? ""
    : ` Dealt from shoe ${hand.shoe.shoe} from card ${hand.shoe.first}`
      + (hand.shoe.retired ? " (retired: its record can be verified)." : " (still dealing).");
  setText(byId("replay-about"), `Hand #${hand.id} at ${hand.table}, ${hand.rules}.${shoe}`);
  fill(byId("replay-steps"));
  byId("replay").hidden = false;
}

/** Show one more step of a replay: the event as the game log said it, with who and when. */
export function addReplayStep(step, text) {
  const when = step.at === null ? ""
    : ` (${new Date(step.at * 1000).toLocaleTimeString()}${step.by === "player" ? "" : `, ${step.by}`})`;
  byId("replay-steps").append(h("li", {}, `${text}${when}`));
}
