// SQLite's versioned schema migrations, applied in order on open (see docs/storage.md). Never edit a released migration:
// append a new one. Each runs inside the same IMMEDIATE transaction as its `schema_migrations` row, so a crash
// leaves the schema at a whole version, and two processes opening a fresh file at once migrate it only once.

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'tenants, tokens, collections, face persons, templates, person records',
    sql: /* sql */ `
      CREATE TABLE clients (
        id         TEXT PRIMARY KEY,
        name       TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
      ) STRICT;

      -- Only the SHA-256 of a token is kept.
      CREATE TABLE tokens (
        id         TEXT PRIMARY KEY,
        client_id  TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
        hash       TEXT NOT NULL UNIQUE,
        label      TEXT,
        created_at TEXT NOT NULL,
        expires_at TEXT,
        revoked_at TEXT
      ) STRICT;
      CREATE INDEX tokens_by_client ON tokens(client_id);

      -- UNIQUE (client_id, id) lets children reference (client, id) pairs, so a row can never point at another
      -- tenant's row, whatever the code above the store does.
      CREATE TABLE collections (
        id          TEXT PRIMARY KEY,
        client_id   TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
        code        TEXT NOT NULL,
        name        TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        UNIQUE (client_id, code),
        UNIQUE (client_id, id)
      ) STRICT;

      CREATE TABLE face_persons (
        id            TEXT PRIMARY KEY,
        client_id     TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
        name          TEXT NOT NULL,
        gender        TEXT CHECK (gender IN ('M', 'F')),
        date_of_birth TEXT,
        nationality   TEXT,
        notes         TEXT,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL,
        UNIQUE (client_id, id)
      ) STRICT;
      CREATE INDEX face_persons_by_client ON face_persons(client_id);

      -- rowid order = the order the collections were given in.
      CREATE TABLE face_person_collections (
        client_id     TEXT NOT NULL,
        person_id     TEXT NOT NULL,
        collection_id TEXT NOT NULL,
        UNIQUE (person_id, collection_id),
        FOREIGN KEY (client_id, person_id) REFERENCES face_persons(client_id, id) ON DELETE CASCADE,
        FOREIGN KEY (client_id, collection_id) REFERENCES collections(client_id, id) ON DELETE CASCADE
      ) STRICT;
      CREATE INDEX face_person_collections_by_collection ON face_person_collections(collection_id);

      CREATE TABLE person_records (
        id                  TEXT PRIMARY KEY,
        client_id           TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
        first_name          TEXT,
        last_name           TEXT,
        email               TEXT,
        phone               TEXT,
        date_of_birth       TEXT,
        document_type       TEXT,
        document_number     TEXT,
        liveness_score      REAL,
        verification_status TEXT NOT NULL CHECK (verification_status IN ('pending', 'verified', 'failed', 'expired')),
        created_at          TEXT NOT NULL,
        updated_at          TEXT NOT NULL,
        UNIQUE (client_id, id)
      ) STRICT;
      CREATE INDEX person_records_by_client_status ON person_records(client_id, verification_status);

      -- AUTOINCREMENT: a template id is never reused, so a stale vector-index entry can never alias a new face.
      -- Exactly one owner: a face person or a generic person record; deleting the owner deletes the templates.
      CREATE TABLE face_templates (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        client_id        TEXT NOT NULL,
        face_person_id   TEXT,
        person_record_id TEXT,
        image_index      INTEGER NOT NULL,
        model_version    TEXT NOT NULL,
        quality          TEXT CHECK (quality IS NULL OR json_valid(quality)),
        created_at       TEXT NOT NULL,
        embedding        BLOB NOT NULL CHECK (length(embedding) > 0 AND length(embedding) % 4 = 0),
        CHECK ((face_person_id IS NULL) <> (person_record_id IS NULL)),
        FOREIGN KEY (client_id, face_person_id) REFERENCES face_persons(client_id, id) ON DELETE CASCADE,
        FOREIGN KEY (client_id, person_record_id) REFERENCES person_records(client_id, id) ON DELETE CASCADE
      ) STRICT;
      CREATE INDEX face_templates_by_face_person ON face_templates(face_person_id);
      CREATE INDEX face_templates_by_person_record ON face_templates(person_record_id);

      -- Kept apart so the start-up index rebuild scans dense embedding rows, not JPEG overflow pages.
      CREATE TABLE face_thumbnails (
        template_id INTEGER PRIMARY KEY REFERENCES face_templates(id) ON DELETE CASCADE,
        jpeg        BLOB NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 2,
    name: 'covering index for collection members',
    // Counting or paging a collection's persons read every member's table row through the old index.
    sql: /* sql */ `
      DROP INDEX face_person_collections_by_collection;
      CREATE INDEX face_person_collections_by_collection ON face_person_collections(collection_id, person_id);
    `,
  },
  {
    version: 3,
    name: 'index generation: a counter every write to what the vector index holds bumps',
    // The vector index saves its graphs at shutdown tagged with this number and reuses them at start-up only if
    // it is unchanged, so nothing written in between (by this process or any other) can be missed. Triggers, not
    // repository code, so that every writer, present or future, bumps it in the same transaction.
    sql: /* sql */ `
      CREATE TABLE index_generation (
        id    INTEGER PRIMARY KEY CHECK (id = 1),
        value INTEGER NOT NULL
      ) STRICT;
      INSERT INTO index_generation (id, value) VALUES (1, 0);

      CREATE TRIGGER face_templates_insert_generation AFTER INSERT ON face_templates
        BEGIN UPDATE index_generation SET value = value + 1; END;
      CREATE TRIGGER face_templates_update_generation AFTER UPDATE ON face_templates
        BEGIN UPDATE index_generation SET value = value + 1; END;
      CREATE TRIGGER face_templates_delete_generation AFTER DELETE ON face_templates
        BEGIN UPDATE index_generation SET value = value + 1; END;
      CREATE TRIGGER face_persons_delete_generation AFTER DELETE ON face_persons
        BEGIN UPDATE index_generation SET value = value + 1; END;
      CREATE TRIGGER face_person_collections_insert_generation AFTER INSERT ON face_person_collections
        BEGIN UPDATE index_generation SET value = value + 1; END;
      CREATE TRIGGER face_person_collections_delete_generation AFTER DELETE ON face_person_collections
        BEGIN UPDATE index_generation SET value = value + 1; END;
    `,
  },
  {
    version: 5,
    name: 'liveness sessions (challenge-response) and their frames',
    // Frames keep what the engine measured and the image only until the verdict; then only the reference and a
    // few audit frames keep their image (role set), the rest is deleted.
    sql: /* sql */ `
      CREATE TABLE liveness_sessions (
        id              TEXT PRIMARY KEY,
        client_id       TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
        status          TEXT NOT NULL CHECK (status IN ('CREATED', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'EXPIRED')),
        steps           TEXT NOT NULL CHECK (json_valid(steps)),
        nonce           TEXT NOT NULL,
        min_score       REAL NOT NULL,
        max_attempts    INTEGER NOT NULL,
        failed_attempts INTEGER NOT NULL DEFAULT 0,
        result          TEXT CHECK (result IS NULL OR json_valid(result)),
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL,
        expires_at      TEXT NOT NULL,
        consumed_at     TEXT,
        UNIQUE (client_id, id)
      ) STRICT;
      CREATE INDEX liveness_sessions_open_by_expiry ON liveness_sessions(status, expires_at);

      CREATE TABLE liveness_session_frames (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        client_id    TEXT NOT NULL,
        session_id   TEXT NOT NULL,
        attempt      INTEGER NOT NULL,
        seq          INTEGER NOT NULL,
        timestamp_ms INTEGER NOT NULL,
        analysis     TEXT NOT NULL CHECK (json_valid(analysis)),
        embedding    BLOB,
        image        BLOB,
        role         TEXT,
        FOREIGN KEY (client_id, session_id) REFERENCES liveness_sessions(client_id, id) ON DELETE CASCADE
      ) STRICT;
      CREATE INDEX liveness_session_frames_by_session ON liveness_session_frames(session_id, attempt, seq);
    `,
  },
  {
    version: 6,
    name: 'audit trail: an append-only record of security-relevant actions',
    // Ids only (client, token, request, the person acted on, the ids a search returned): never names, images or
    // templates, so the record can outlive an erasure. Triggers make the table append-only for every writer: no
    // UPDATE ever, and DELETE only of rows older than the retention cutoff, which only moves forward and never to
    // within a day of now (the retention prune moves it, then deletes). seq is AUTOINCREMENT: a gap in an export
    // shows rows removed some other way (e.g. the file edited by hand).
    sql: /* sql */ `
      CREATE TABLE audit_events (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        at         TEXT NOT NULL,
        client_id  TEXT,
        token_id   TEXT,
        request_id TEXT,
        route      TEXT NOT NULL,
        action     TEXT NOT NULL,
        outcome    TEXT NOT NULL,
        status     INTEGER,
        subject    TEXT,
        details    TEXT CHECK (details IS NULL OR json_valid(details))
      ) STRICT;
      CREATE INDEX audit_events_by_time ON audit_events(at);

      CREATE TABLE audit_retention (
        id     INTEGER PRIMARY KEY CHECK (id = 1),
        cutoff TEXT NOT NULL
      ) STRICT;
      INSERT INTO audit_retention (id, cutoff) VALUES (1, '');

      CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
      CREATE TRIGGER audit_events_prune_only BEFORE DELETE ON audit_events
        WHEN old.at >= (SELECT cutoff FROM audit_retention WHERE id = 1)
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: only rows older than the retention cutoff can be deleted'); END;
      CREATE TRIGGER audit_retention_forward BEFORE UPDATE ON audit_retention
        WHEN new.cutoff < old.cutoff OR new.cutoff > strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day')
        BEGIN SELECT RAISE(ABORT, 'the audit retention cutoff only moves forward, and never to within a day of now'); END;
      CREATE TRIGGER audit_retention_no_delete BEFORE DELETE ON audit_retention
        BEGIN SELECT RAISE(ABORT, 'audit_retention cannot be deleted'); END;
    `,
  },
  {
    version: 7,
    name: 'change feed of what the vector index holds; response-signing keys shared by every instance',
    // One row per face person whose index entry changed, appended by the repositories in the writing transaction
    // (ids and a time only, never names or templates). AUTOINCREMENT: a seq is never reused after a prune.
    // signing_keys: at most one current key (retired_at NULL), enforced by the partial unique index.
    sql: /* sql */ `
      CREATE TABLE index_changes (
        seq       INTEGER PRIMARY KEY AUTOINCREMENT,
        client_id TEXT NOT NULL,
        person_id TEXT NOT NULL,
        at        TEXT NOT NULL
      ) STRICT;

      CREATE TABLE signing_keys (
        kid         TEXT PRIMARY KEY,
        alg         TEXT NOT NULL CHECK (alg IN ('EdDSA', 'ES256')),
        private_jwk TEXT NOT NULL CHECK (json_valid(private_jwk)),
        public_jwk  TEXT NOT NULL CHECK (json_valid(public_jwk)),
        created_at  TEXT NOT NULL,
        retired_at  TEXT
      ) STRICT;
      CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys ((retired_at IS NULL)) WHERE retired_at IS NULL;
    `,
  },
  {
    version: 8,
    name: "liveness sessions: the browser's capture credential (hashed), its allowed origin, the validity after success",
    // capture_token_hash: SHA-256 of the one-session credential the relying party hands the browser (the secret is
    // never stored). valid_for: seconds a SUCCEEDED session stays usable by a flow, from succeeded_at. Sessions of
    // earlier versions get no credential (their frames need the client's token, as before) and the default validity.
    sql: /* sql */ `
      ALTER TABLE liveness_sessions ADD COLUMN capture_token_hash TEXT;
      ALTER TABLE liveness_sessions ADD COLUMN allowed_origin TEXT;
      ALTER TABLE liveness_sessions ADD COLUMN valid_for INTEGER NOT NULL DEFAULT 300;
      ALTER TABLE liveness_sessions ADD COLUMN succeeded_at TEXT;
      CREATE UNIQUE INDEX liveness_sessions_by_capture_token ON liveness_sessions(capture_token_hash) WHERE capture_token_hash IS NOT NULL;
    `,
  },
  {
    version: 9,
    name: 'your own ids on face persons; the digest of the photo each template came from',
    // external_id: the caller's identifier for a person (an employee number, a CRM id), unique per tenant when
    // given. source_sha256: the SHA-256 of the photo a template was made from, so a bulk import run again skips
    // photos already enrolled; it goes with the template (erasure deletes it), and like the digests in response
    // signatures it cannot be turned back into the photo.
    sql: /* sql */ `
      ALTER TABLE face_persons ADD COLUMN external_id TEXT;
      CREATE UNIQUE INDEX face_persons_by_external_id ON face_persons(client_id, external_id) WHERE external_id IS NOT NULL;
      ALTER TABLE face_templates ADD COLUMN source_sha256 TEXT;
      CREATE INDEX face_templates_by_source ON face_templates(client_id, source_sha256) WHERE source_sha256 IS NOT NULL;
    `,
  },
  {
    version: 10,
    name: "audit trail: how each action came (api, console, operator) and the caller's own request id",
    // The caller's x-request-id is its own label, kept beside the server's request id, never in its place. Adding
    // columns is no UPDATE: the append-only triggers stay as they are, and older rows read null.
    sql: /* sql */ `
      ALTER TABLE audit_events ADD COLUMN via TEXT CHECK (via IS NULL OR via IN ('api', 'console', 'operator'));
      ALTER TABLE audit_events ADD COLUMN caller_request TEXT;
    `,
  },
];
