"""A baseline to measure against: the classic thread-per-connection blackjack server.

This is how socket-programming courses teach a game server: one OS thread per
client, blocking reads, a fresh deck per hand, simple rules (two cards each, one
dealer card hidden, the player hits until satisfied, the dealer draws below 17,
closest to 21 wins). One player against the dealer per connection; nothing is
stored. Protocol, one line each way: the server sends state lines and ends each
hand with a line starting ``RESULT``; the client sends ``hit``, ``stand``, ``deal``
(the next hand) or ``quit``.

usage: python threaded_baseline.py PORT

A copy, unchanged but for this paragraph, of the baseline issue 11 measured
against; ``scripts/loadtest.py --baseline`` plays it side by side with the
card room, with the same basic-strategy bots.
"""
import random
import socket
import sys
import threading

VALUES = {"A": 11, "J": 10, "Q": 10, "K": 10, "T": 10}


def value(hand):
    total = sum(VALUES.get(c[0], int(c[0]) if c[0].isdigit() else 10) for c in hand)
    aces = sum(1 for c in hand if c[0] == "A")
    while total > 21 and aces:
        total -= 10
        aces -= 1
    return total


def new_deck(rng):
    deck = [r + s for r in "23456789TJQKA" for s in "SHDC"]
    rng.shuffle(deck)
    return deck


def handle_client(conn):
    rng = random.Random()
    f = conn.makefile("rwb", buffering=0)
    try:
        while True:
            deck = new_deck(rng)
            player = [deck.pop(), deck.pop()]
            dealer = [deck.pop(), deck.pop()]
            f.write(f"DEAL you {' '.join(player)} ({value(player)}) dealer {dealer[0]} ??\r\n".encode())
            while value(player) < 21:
                line = f.readline()
                if not line:
                    return
                cmd = line.strip().lower()
                if cmd == b"hit":
                    player.append(deck.pop())
                    f.write(f"CARD {player[-1]} ({value(player)})\r\n".encode())
                elif cmd == b"stand":
                    break
                elif cmd == b"quit":
                    return
                else:
                    f.write(b"ERR hit or stand\r\n")
            p = value(player)
            while p <= 21 and value(dealer) < 17:
                dealer.append(deck.pop())
            d = value(dealer)
            if p > 21:
                res = "lose"
            elif d > 21 or p > d:
                res = "win"
            elif p == d:
                res = "push"
            else:
                res = "lose"
            f.write(f"RESULT {res} you {p} dealer {d} {' '.join(dealer)}\r\n".encode())
            line = f.readline()
            if not line or line.strip().lower() != b"deal":
                return
    except OSError:
        pass
    finally:
        conn.close()


def main(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(4096)
    while True:
        c, _ = s.accept()
        threading.Thread(target=handle_client, args=(c,), daemon=True).start()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 9000)
