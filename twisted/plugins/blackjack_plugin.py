"""twistd plugin: ``twistd -n blackjack``. Everything lives in blackjack.server.hosting.tap."""

from twisted.application.service import ServiceMaker

blackjack = ServiceMaker(
    "blackjack", "blackjack.server.hosting.tap",
    "A multiplayer blackjack card room, played over telnet or in a browser.", "blackjack")
