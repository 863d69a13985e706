"""The Twisted server: wire protocol, lobby, tables, accounts and storage."""
