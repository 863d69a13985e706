// Cards as the protocol writes them ("TD", "9S", "??") and as people see and hear them.
//
// A card is drawn with CSS (a white card with rank and suit, or a patterned
// back for the dealer's hole card) and carries its spoken name ("ten of
// diamonds") for screen readers.

import { h } from "./dom.js";

const RANKS = {
  A: ["A", "ace"], 2: ["2", "two"], 3: ["3", "three"], 4: ["4", "four"], 5: ["5", "five"],
  6: ["6", "six"], 7: ["7", "seven"], 8: ["8", "eight"], 9: ["9", "nine"], T: ["10", "ten"],
  J: ["J", "jack"], Q: ["Q", "queen"], K: ["K", "king"],
};
const SUITS = {
  S: ["\u2660", "spades", false], H: ["\u2665", "hearts", true],
  D: ["\u2666", "diamonds", true], C: ["\u2663", "clubs", false],
};

export const HIDDEN = "??";

/** The spoken name of a card: "ten of diamonds", or "a face-down card". */
export function cardName(code) {
  if (code === HIDDEN) return "a face-down card";
  const rank = RANKS[code[0]];
  const suit = SUITS[code[1]];
  if (!rank || !suit) return "an unknown card";
  return `${rank[1]} of ${suit[1]}`;
}

/** The names of several cards, for a sentence: "ten of diamonds and nine of spades". */
export function cardNames(codes) {
  const names = codes.map(cardName);
  if (names.length < 2) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

/** A card drawn on the page; the label is what a screen reader says. */
export function cardElement(code) {
  if (code === HIDDEN) {
    return h("span", { class: "card back", role: "img", "aria-label": cardName(code),
                       "data-card": code });
  }
  const rank = RANKS[code[0]] || ["?", "?"];
  const suit = SUITS[code[1]] || ["?", "?", false];
  return h("span", { class: suit[2] ? "card red" : "card", role: "img",
                     "aria-label": cardName(code), "data-card": code },
    h("span", { class: "rank", "aria-hidden": "true" }, rank[0]),
    h("span", { class: "pip", "aria-hidden": "true" }, suit[0]),
    h("span", { class: "suit", "aria-hidden": "true" }, suit[0]));
}

/** A row of cards. */
export function cardRow(codes, label) {
  return h("span", { class: "cards", role: "group", "aria-label": label },
    ...codes.map(cardElement));
}
