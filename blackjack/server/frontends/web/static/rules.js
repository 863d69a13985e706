// The table rules, as the server writes them in short ("6D S17 3:2 DAS SP4 peek
// 10-500"), in plain words for the lobby.

const WORDS = [
  [/^(\d)D$/, (m) => `${m[1]} deck${m[1] === "1" ? "" : "s"}`],
  [/^S17$/, () => "dealer stands on soft 17"],
  [/^H17$/, () => "dealer hits soft 17"],
  [/^(\d+):(\d+)$/, (m) => `blackjack pays ${m[1]} to ${m[2]}`],
  [/^D(9-11|10-11)$/, (m) => `double on ${m[1]} only`],
  [/^DAS$/, () => "double after split"],
  [/^NDAS$/, () => "no double after split"],
  [/^SP(\d)$/, (m) => `split to ${m[1]} hands`],
  [/^NOSPLIT$/, () => "no splitting"],
  [/^RSA$/, () => "resplit aces"],
  [/^HSA$/, () => "hit split aces"],
  [/^LS$/, () => "late surrender"],
  [/^NOINS$/, () => "no insurance"],
  [/^peek$/, () => "dealer peeks for blackjack"],
  [/^ENHC$/, () => "no hole card until the players are done"],
  [/^(\d+)-(\d+)$/, (m) => `bets ${m[1]} to ${m[2]}`],
];

/** "6D S17 3:2 ..." as "6 decks, dealer stands on soft 17, blackjack pays 3 to 2, ...". */
export function explainRules(short) {
  return short.split(" ").map((word) => {
    for (const [pattern, say] of WORDS) {
      const m = word.match(pattern);
      if (m) return say(m);
    }
    return word;
  }).join(", ");
}
