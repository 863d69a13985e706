"""Hosting: the card room as one Twisted service, and ``twistd blackjack``'s options."""
