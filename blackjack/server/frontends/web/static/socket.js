// The WebSocket to the card room, speaking protocol v1 (docs/protocol.md).
//
// request() sends one JSON request and resolves with its reply ({ok, result}
// or {ok: false, error}); events go to the onEvent callback in the order they
// arrive.  A connection that drops without the server saying goodbye is
// opened again after a short, growing pause; one the server closed with a
// "bye" (taken over by another tab, idle, shutting down) is not, and the page
// says why.

const HELLO = { cmd: "hello", protocol: 1 };

export class Connection {
  constructor(url, { onReady, onEvent, onStatus, onClosed }) {
    this.url = url;
    this.onReady = onReady;
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.onClosed = onClosed;
    this.socket = null;
    this.nextId = 0;
    this.pending = new Map();
    this.retries = 0;
    this.retryTimer = null;
    this.bye = null;
    this.stopped = false;
  }

  /** Open the socket and say hello; onReady() follows when the server agrees. */
  open() {
    clearTimeout(this.retryTimer);
    this.bye = null;
    this.stopped = false;
    this.onStatus("Connecting\u2026");
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener("open", () => this.hello());
    socket.addEventListener("message", (m) => this.received(m.data));
    socket.addEventListener("close", () => this.closed(socket));
  }

  async hello() {
    const reply = await this.request(HELLO.cmd, { protocol: HELLO.protocol });
    if (!reply.ok) {
      this.onStatus(`The server refused the protocol: ${reply.error.message}`);
      return;
    }
    this.retries = 0;
    this.onStatus("Connected");
    this.onReady();
  }

  /** Send a request; resolves with its reply (a refusal if the socket is not open). */
  request(cmd, params = {}) {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      return Promise.resolve({ ok: false, error: { code: "offline",
                                                   message: "not connected" } });
    }
    const id = ++this.nextId;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      socket.send(JSON.stringify({ id, cmd, ...params }));
    });
  }

  received(data) {
    if (typeof data !== "string" || !data.startsWith("{")) return; // the greeting for people
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if ("event" in message) {
      if (message.event === "bye") this.bye = message.message;
      this.onEvent(message);
      return;
    }
    const resolve = this.pending.get(message.id);
    if (resolve) {
      this.pending.delete(message.id);
      resolve(message);
    } else if (message.ok === false) {
      // A refusal with no id: over the rate, before the request could be read.
      this.onEvent({ event: "error", code: message.error.code, message: message.error.message });
    }
  }

  closed(socket) {
    if (socket !== this.socket) return;
    this.socket = null;
    for (const resolve of this.pending.values()) {
      resolve({ ok: false, error: { code: "offline", message: "the connection closed" } });
    }
    this.pending.clear();
    if (this.bye !== null || this.stopped) {
      this.onClosed(this.bye);
      return;
    }
    const seconds = Math.min(15, 2 ** this.retries);
    this.retries += 1;
    this.onStatus(`Connection lost; trying again in ${seconds} s\u2026`);
    this.retryTimer = setTimeout(() => this.open(), seconds * 1000);
  }

  /** Close for good (no reconnecting). */
  close() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    if (this.socket) this.socket.close(1000);
  }
}

/** The WebSocket address of the page's own server: ws://host/ws, or wss:// over HTTPS. */
export function socketUrl(location) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}
