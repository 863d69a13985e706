// Each event as one sentence for the game log, which is also the live region
// screen readers announce: cards by their spoken names, "you" for the reader.

import { cardName, cardNames, HIDDEN } from "./cards.js";
import { signed } from "./dom.js";

const ACTIONS = {
  hit: "hits", stand: "stands", double: "doubles down", split: "splits",
  surrender: "surrenders", insurance: "takes insurance", even: "takes even money",
  no: "declines insurance",
};
const YOUR_ACTIONS = {
  hit: "hit", stand: "stand", double: "double down", split: "split",
  surrender: "surrender", insurance: "take insurance", even: "take even money",
  no: "decline insurance",
};
export const KEYS = {
  hit: "h", stand: "s", double: "d", split: "p", surrender: "r",
  insurance: "i", even: "e", no: "n",
};

function who(name, me) {
  return name === me ? "You" : name;
}

function does(name, me, action) {
  return name === me ? `You ${YOUR_ACTIONS[action] || action}.`
    : `${name} ${ACTIONS[action] || action}.`;
}

/** The sentence for an event, or null for one that says nothing new to a person. */
export function describe(e, me) {
  switch (e.event) {
    case "joined":
      return `${who(e.player, me)} ${e.player === me ? "sit" : "sits"} down at seat ${e.seat}.`;
    case "left":
      return e.seat === null ? null
        : `${who(e.player, me)} left seat ${e.seat}${e.reason === "left" ? "" : ` (${e.reason})`}.`;
    case "away":
      return `${e.player} dropped; the seat is held for ${e.grace} seconds.`;
    case "back":
      return `${e.player} is back.`;
    case "betting":
      return `Place your bets: ${e.min} to ${e.max} chips, ${e.seconds} seconds.`;
    case "bet":
      return `${who(e.player, me)} ${e.player === me ? "bet" : "bets"} ${e.amount}.`;
    case "shuffle":
      return e.shoe === null ? "The dealer shuffles the shoe."
        : `The dealer shuffles shoe ${e.shoe}, committed to as ${e.commitment}, with the `
          + `client seed ${e.client_seed} from the seeds of `
          + `${e.seeds.map((s) => s.player).join(", ") || "nobody"}.`;
    case "shoe":
      return `The next shoe, ${e.next.shoe}, is committed to: ${e.next.commitment}.`;
    case "shoe_retired":
      return `Shoe ${e.shoe} is retired (${e.reason}) after ${e.rounds} rounds; its server `
        + `seed was ${e.server_seed}.`;
    case "trainer":
      return `Trainer: basic strategy plays ${e.best} here, not ${e.action}; yours cost `
        + `${e.cost.toFixed(2)} chips in expected value.`;
    case "deal":
      if (e.seat === null) {
        return e.card === HIDDEN ? "The dealer's second card is face down."
          : `Dealer: ${cardName(e.card)}${e.total ? `, ${e.total}` : ""}.`;
      }
      return `${who(e.player, me)}${e.hand ? ` (hand ${e.hand + 1})` : ""}: ${cardName(e.card)}, ${e.total}.`;
    case "insurance":
      return "The dealer shows an ace: insurance is offered.";
    case "decide":
      return `Insurance? ${e.legal.map((a) => `${YOUR_ACTIONS[a]} (${KEYS[a]})`).join(", ")}; `
        + `${e.seconds} seconds.`;
    case "decision":
      return does(e.player, me, e.action);
    case "peek":
      return e.blackjack ? "The dealer peeks: blackjack." : "The dealer peeks: no blackjack.";
    case "turn":
      return e.player === me ? null : `${e.player}'s turn, ${e.total}.`;
    case "prompt":
      return `Your move on ${handTotal(e)}: `
        + `${e.legal.map((a) => `${a} (${KEYS[a]})`).join(", ")}; ${e.seconds} seconds.`;
    case "action":
      return does(e.player, me, e.action);
    case "timeout":
      return `Time is up for ${e.player === me ? "you" : e.player}: ${e.action === "no" ? "no insurance" : "stand"}.`;
    case "reveal":
      return `The dealer turns over the ${cardName(e.card)}: ${e.total}.`;
    case "dealer":
      return `The dealer has ${e.total}${e.blackjack ? ", blackjack" : ""}${e.bust ? ": bust" : ""}.`;
    case "result":
      return e.hands.map((r) => `${who(r.player, me)}: ${r.result}${r.net ? ` ${signed(r.net)}` : ""}`)
        .join("; ") + ".";
    case "announce":
      return `Announcement from ${e.admin}: ${e.text}`;
    case "info":
    case "error":
    case "shutdown":
    case "bye":
      return e.message;
    default:
      return null;
  }
}

function handTotal(prompt) {
  const seat = prompt.view.seats.find((s) => s.seat === prompt.seat);
  const hand = seat && seat.hands[prompt.hand];
  if (!hand) return "your hand";
  const up = prompt.view.dealer[0];
  return `${hand.soft ? "soft " : ""}${hand.total} (${cardNames(hand.cards)}) against the `
    + `${cardName(up)}`;
}
