// The page: connects, logs in (or resumes with the tab's token), and plays.
//
// The password is never stored.  After every login the page asks the server
// for a one-time resume token and keeps it in this tab's sessionStorage; a
// reload or a dropped connection logs in again with it and lands back in
// the held seat.  A server that says goodbye ("bye") is not reconnected to
// on its own: the page shows why and offers to connect again.

import { describe, KEYS } from "./announce.js";
import { byId, setText } from "./dom.js";
import { Game } from "./game.js";
import { Connection, socketUrl } from "./socket.js";
import {
  addChat, addLog, addReplayStep, chipValues, renderAccount, renderControls, renderHint,
  renderHistory, renderReplay,
  renderLobby, renderTable,
} from "./view.js";

const TOKEN_KEY = "blackjack.resume";
const ACTION_BY_KEY = Object.fromEntries(Object.entries(KEYS).map(([a, k]) => [k, a]));

const game = new Game();
let pendingBet = 0;
let lastBet = 0;
let bettingRound = null;
let shown = null;
let loggingOut = false;

const connection = new Connection(socketUrl(window.location), {
  onReady: ready,
  onEvent: received,
  onStatus: (text) => setText(byId("status"), text),
  onClosed: closed,
});

// -- connecting and logging in ------------------------------------------------------

async function ready() {
  byId("reconnect-button").hidden = true;
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) {
    sessionStorage.removeItem(TOKEN_KEY); // it works once, whatever happens next
    const reply = await connection.request("resume", { token });
    if (reply.ok) {
      await loggedIn(reply.result);
      return;
    }
  }
  game.me = null;
  game.table = null;
  render();
}

async function loggedIn(result) {
  game.loggedIn(result);
  const token = await connection.request("token");
  if (token.ok) sessionStorage.setItem(TOKEN_KEY, token.result.token);
  if (!game.table) await refreshTables();
  render();
}

async function login(verb) {
  const name = byId("login-name").value.trim();
  const password = byId("login-password").value;
  setText(byId("login-error"), "");
  const reply = await connection.request(verb, { name, password });
  byId("login-password").value = "";
  if (!reply.ok) {
    setText(byId("login-error"), reply.error.message);
    return;
  }
  await loggedIn(reply.result);
}

function closed(why) {
  if (loggingOut) {
    loggingOut = false;
    game.me = null;
    game.table = null;
    connection.open();
    render();
    return;
  }
  setText(byId("status"), why ? `Disconnected: ${why}` : "Disconnected.");
  byId("reconnect-button").hidden = false;
}

async function refreshTables() {
  const reply = await connection.request("tables");
  if (reply.ok) game.apply(reply.result);
}

// -- events ---------------------------------------------------------------------------

function received(event) {
  game.apply(event);
  if (event.event === "say") addChat(event.player, event.text);
  if (event.event === "betting") startBetting(event);
  const text = describe(event, game.me);
  if (text) addLog(text);
  if (event.event === "left" && event.player === game.me) refreshTables().then(render);
  render();
}

function startBetting(event) {
  if (event.round === bettingRound) return;
  bettingRound = event.round;
  pendingBet = Math.min(Math.max(lastBet || event.min, event.min), event.max);
}

// -- drawing ---------------------------------------------------------------------------

function render() {
  renderAccount(game);
  const view = !game.me ? "login" : game.table ? "table" : "lobby";
  byId("login-view").hidden = view !== "login";
  byId("lobby-view").hidden = view !== "lobby";
  byId("table-view").hidden = view !== "table";
  if (view === "lobby") renderLobby(game, { onSit: sit, onWatch: watch });
  if (view === "table") {
    renderTable(game, { onSitAt: sitAt });
    renderControls(game, pendingBet);
  }
  if (view !== shown) {
    shown = view;
    moveFocus(view);
  }
}

function moveFocus(view) {
  // A new screen: put the keyboard where its first move is.
  if (view === "login") byId("login-name").focus();
  if (view === "lobby") {
    const first = document.querySelector("#tables-body button");
    (first || byId("lobby-title")).focus();
  }
  if (view === "table") byId("table-title").focus();
}

setInterval(() => {
  if (game.table && !byId("table-view").hidden) renderControls(game, pendingBet);
}, 250);

// -- what the player does ----------------------------------------------------------------

async function run(cmd, params = {}) {
  const reply = await connection.request(cmd, params);
  if (!reply.ok) addLog(reply.error.message);
  render();
  return reply;
}

function sit(table) { return run("join", { table }); }
async function sitAt(seat) {
  // From watching to a seat: stop watching, then sit there.
  const table = game.table.name;
  await run("leave");
  await run("join", { table, seat });
}
function watch(table) { return run("watch", { table }); }

function act(action) {
  const t = game.table;
  const legal = t && (t.decide ? t.decide.legal : t.prompt ? t.prompt.legal : []);
  if (legal && legal.includes(action)) run(action);
}

function addChip(value) {
  const t = game.table;
  if (!t || !t.betting) return;
  pendingBet = Math.min(pendingBet + value, t.max);
  render();
}

function placeBet() {
  const t = game.table;
  if (!t || !t.betting || pendingBet < t.min) return;
  lastBet = pendingBet;
  run("bet", { amount: pendingBet });
}

function clearBet() {
  pendingBet = 0;
  render();
}

async function hint() {
  const reply = await connection.request("hint");
  if (reply.ok) renderHint(reply.result);
  else addLog(reply.error.message);
}

async function showHistory() {
  const reply = await connection.request("history", { limit: 20 });
  if (!reply.ok) return;
  renderHistory(reply.result.hands, game.me);
  byId("replay").hidden = true;
  byId("history-dialog").showModal();
}

// A stored hand, replayed one step at a time with the sentences the game log uses.
let replaying = [];

async function replay(id) {
  const reply = await connection.request("hand", { number: id });
  if (!reply.ok) {
    setText(byId("replay-about"), reply.error.message);
    byId("replay").hidden = false;
    return;
  }
  renderReplay(reply.result);
  replaying = reply.result.steps.slice();
  nextStep();
}

function nextStep() {
  while (replaying.length) {
    const step = replaying.shift();
    const text = describe(step.event, game.me);
    if (text) {
      addReplayStep(step, text);
      return;
    }
  }
}

function logout() {
  sessionStorage.removeItem(TOKEN_KEY);
  loggingOut = true;
  connection.request("quit");
}

// -- wiring ---------------------------------------------------------------------------------

byId("login-form").addEventListener("submit", (e) => {
  e.preventDefault();
  login(e.submitter && e.submitter.value === "register" ? "register" : "login");
});
byId("refresh-button").addEventListener("click", () => refreshTables().then(render));
byId("leave-button").addEventListener("click", () => run("leave"));
byId("bet-button").addEventListener("click", placeBet);
byId("clear-button").addEventListener("click", clearBet);
byId("chips").addEventListener("click", (e) => {
  const chip = e.target.closest("[data-chip]");
  if (chip) addChip(Number(chip.dataset.chip));
});
byId("action-controls").addEventListener("click", (e) => {
  const button = e.target.closest("[data-action]");
  if (button) act(button.dataset.action);
});
byId("hint-button").addEventListener("click", hint);
byId("history-button").addEventListener("click", showHistory);
byId("history-body").addEventListener("click", (e) => {
  const button = e.target.closest("[data-hand]");
  if (button) replay(Number(button.dataset.hand));
});
byId("replay-next").addEventListener("click", nextStep);
byId("replay-all").addEventListener("click", () => {
  while (replaying.length) nextStep();
});
byId("history-close").addEventListener("click", () => byId("history-dialog").close());
byId("logout-button").addEventListener("click", logout);
byId("reconnect-button").addEventListener("click", () => connection.open());
byId("chat-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = byId("chat-input");
  const text = input.value.trim();
  if (text) run("say", { text });
  input.value = "";
});

document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.altKey || e.metaKey || e.isComposing) return;
  if (e.target.closest("input, textarea, select, dialog")) return;
  if (!game.table) return;
  const key = e.key.toLowerCase();
  let handled = true;
  if (ACTION_BY_KEY[key]) act(ACTION_BY_KEY[key]);
  else if (key >= "1" && key <= "5") {
    const values = chipValues(game.table.min, game.table.max);
    const value = values[Number(key) - 1];
    if (value) addChip(value);
  } else if (key === "b") placeBet();
  else if (key === "c") clearBet();
  else if (key === "?") hint();
  else handled = false;
  if (handled) e.preventDefault();
});

connection.open();
