"""The telnet front end: telnet and netcat clients, people and programs alike."""
