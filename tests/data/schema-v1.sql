-- A database written by the first release (schema version 1), dumped with
-- sqlite3's iterdump: accounts alice and aIice (look-alikes, allowed then),
-- Dealer (a reserved word now), passwords abcd, efgh and ijkl (4 characters,
-- the old minimum; FAST_INSECURE hashes), and one settled round.
BEGIN TRANSACTION;
CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    name_key      TEXT    NOT NULL UNIQUE,   -- lower(name): unique ignoring case
    password_hash TEXT    NOT NULL,
    balance       INTEGER NOT NULL CHECK (typeof(balance) = 'integer' AND balance >= 0),
    created       REAL    NOT NULL
);
INSERT INTO "accounts" VALUES(1,'alice','alice','scrypt$16$1$1$jaE0FnQhScjMLpHgH3TmNw==$v1DIgRtOAyi5I1mnNDot1Kid7joMt3KniflF3Ow3ugY=',1010,1700000000.0);
INSERT INTO "accounts" VALUES(2,'aIice','aiice','scrypt$16$1$1$JyjeV3TK26rZPq3oKWFgHw==$O9UjSy1q4tdrmoubAtFCgP7gB7saRAJzJTNea/zvQ7I=',980,1700000000.0);
INSERT INTO "accounts" VALUES(3,'Dealer','dealer','scrypt$16$1$1$4vKgE85uaq6sv1UjPlp9MA==$EQlwxPtUewgEuTRSxr3ftoAdYVRVMRD7H+iuE1IgV38=',1000,1700000000.0);
CREATE TABLE hands (
    id         INTEGER PRIMARY KEY,
    round_id   TEXT    NOT NULL REFERENCES rounds (round_id),
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    staked     INTEGER NOT NULL,
    payout     INTEGER NOT NULL,
    record     TEXT    NOT NULL,
    created    REAL    NOT NULL,
    UNIQUE (round_id, account_id)
);
INSERT INTO "hands" VALUES(1,'main-r1',1,10,20,'{"table":"main"}',1700000000.0);
INSERT INTO "hands" VALUES(2,'main-r1',2,20,0,'{"table":"main"}',1700000000.0);
CREATE TABLE ledger (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    kind       TEXT    NOT NULL CHECK (kind IN ('issue', 'stake', 'payout', 'refund')),
    amount     INTEGER NOT NULL CHECK (typeof(amount) = 'integer'),
    balance    INTEGER NOT NULL CHECK (balance >= 0),
    round_id   TEXT,
    key        TEXT    NOT NULL DEFAULT '',
    created    REAL    NOT NULL
);
INSERT INTO "ledger" VALUES(1,1,'issue',1000,1000,NULL,'',1700000000.0);
INSERT INTO "ledger" VALUES(2,2,'issue',1000,1000,NULL,'',1700000000.0);
INSERT INTO "ledger" VALUES(3,3,'issue',1000,1000,NULL,'',1700000000.0);
INSERT INTO "ledger" VALUES(4,1,'stake',-10,990,'main-r1','seat1:bet',1700000000.0);
INSERT INTO "ledger" VALUES(5,2,'stake',-20,980,'main-r1','seat2:bet',1700000000.0);
INSERT INTO "ledger" VALUES(6,1,'payout',20,1010,'main-r1','',1700000000.0);
INSERT INTO "ledger" VALUES(7,2,'payout',0,980,'main-r1','',1700000000.0);
CREATE TABLE rounds (
    round_id TEXT PRIMARY KEY,
    state    TEXT NOT NULL CHECK (state IN ('open', 'settled', 'refunded')),
    opened   REAL NOT NULL,
    closed   REAL
);
INSERT INTO "rounds" VALUES('main-r1','settled',1700000000.0,1700000000.0);
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO "schema_version" VALUES(1);
CREATE TABLE stakes (
    id         INTEGER PRIMARY KEY,
    round_id   TEXT    NOT NULL REFERENCES rounds (round_id),
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    key        TEXT    NOT NULL,
    amount     INTEGER NOT NULL CHECK (typeof(amount) = 'integer' AND amount > 0),
    state      TEXT    NOT NULL CHECK (state IN ('held', 'settled', 'refunded')),
    created    REAL    NOT NULL,
    UNIQUE (round_id, account_id, key)
);
INSERT INTO "stakes" VALUES(1,'main-r1',1,'seat1:bet',10,'settled',1700000000.0);
INSERT INTO "stakes" VALUES(2,'main-r1',2,'seat2:bet',20,'settled',1700000000.0);
CREATE INDEX rounds_by_state ON rounds (state);
CREATE INDEX stakes_by_state ON stakes (state);
CREATE INDEX ledger_by_account ON ledger (account_id, id);
CREATE INDEX ledger_by_kind ON ledger (kind);
CREATE UNIQUE INDEX ledger_once ON ledger (round_id, account_id, kind, key)
    WHERE round_id IS NOT NULL;
CREATE INDEX hands_by_account ON hands (account_id, id);
COMMIT;
