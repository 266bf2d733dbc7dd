// PostgreSQL's versioned schema migrations. Never edit a released migration: append a new one. The runner
// (./connection.ts) applies them under a session advisory lock, each in its own transaction with its
// `schema_migrations` row, so N instances starting at once apply each exactly once.
//
// Same tables and columns as SQLite's (src/store/sqlite/migrations.ts), so the repositories of the two backends
// read alike. Times are ISO 8601 text as there (they sort as text and come back exactly as written); `ord` identity
// columns give the insertion order SQLite's rowid gives. Embeddings, thumbnails and frame images are bytea.
// Every child row carries its client_id, and composite foreign keys (client_id, id) make it impossible for a row
// to point at another tenant's row, whatever the code above the store does.

export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

export const pgMigrations: readonly PgMigration[] = [
  {
    version: 1,
    name: 'tenants, tokens, collections, face persons, templates, person records, liveness sessions, audit trail, change feed, signing keys',
    sql: /* sql */ `
      CREATE TABLE clients (
        id         text PRIMARY KEY,
        name       text NOT NULL UNIQUE,
        created_at text NOT NULL,
        ord        bigint GENERATED ALWAYS AS IDENTITY
      );

      -- Only the SHA-256 of a token is kept.
      CREATE TABLE tokens (
        id         text PRIMARY KEY,
        client_id  text NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
        hash       text NOT NULL UNIQUE,
        label      text,
        created_at text NOT NULL,
        expires_at text,
        revoked_at text,
        ord        bigint GENERATED ALWAYS AS IDENTITY
      );
      CREATE INDEX tokens_by_client ON tokens (client_id);

      CREATE TABLE collections (
        id          text PRIMARY KEY,
        client_id   text NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
        code        text NOT NULL,
        name        text NOT NULL,
        description text NOT NULL DEFAULT '',
        created_at  text NOT NULL,
        updated_at  text NOT NULL,
        ord         bigint GENERATED ALWAYS AS IDENTITY,
        UNIQUE (client_id, code),
        UNIQUE (client_id, id)
      );
      CREATE INDEX collections_by_client ON collections (client_id, ord);

      CREATE TABLE face_persons (
        id            text PRIMARY KEY,
        client_id     text NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
        name          text NOT NULL,
        gender        text CHECK (gender IN ('M', 'F')),
        date_of_birth text,
        nationality   text,
        notes         text,
        created_at    text NOT NULL,
        updated_at    text NOT NULL,
        ord           bigint GENERATED ALWAYS AS IDENTITY,
        UNIQUE (client_id, id)
      );
      CREATE INDEX face_persons_by_client ON face_persons (client_id, ord);

      -- ord order = the order the collections were given in.
      CREATE TABLE face_person_collections (
        client_id     text NOT NULL,
        person_id     text NOT NULL,
        collection_id text NOT NULL,
        ord           bigint GENERATED ALWAYS AS IDENTITY,
        UNIQUE (person_id, collection_id),
        FOREIGN KEY (client_id, person_id) REFERENCES face_persons (client_id, id) ON DELETE CASCADE,
        FOREIGN KEY (client_id, collection_id) REFERENCES collections (client_id, id) ON DELETE CASCADE
      );
      CREATE INDEX face_person_collections_by_collection ON face_person_collections (collection_id, person_id);

      CREATE TABLE person_records (
        id                  text PRIMARY KEY,
        client_id           text NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
        first_name          text,
        last_name           text,
        email               text,
        phone               text,
        date_of_birth       text,
        document_type       text,
        document_number     text,
        liveness_score      double precision,
        verification_status text NOT NULL CHECK (verification_status IN ('pending', 'verified', 'failed', 'expired')),
        created_at          text NOT NULL,
        updated_at          text NOT NULL,
        ord                 bigint GENERATED ALWAYS AS IDENTITY,
        UNIQUE (client_id, id)
      );
      CREATE INDEX person_records_by_client_status ON person_records (client_id, verification_status, ord);

      -- Identity, never reused: a stale vector-index entry can never alias a new face. Exactly one owner.
      CREATE TABLE face_templates (
        id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        client_id        text NOT NULL,
        face_person_id   text,
        person_record_id text,
        image_index      integer NOT NULL,
        model_version    text NOT NULL,
        quality          jsonb,
        created_at       text NOT NULL,
        embedding        bytea NOT NULL CHECK (length(embedding) > 0 AND length(embedding) % 4 = 0),
        CHECK ((face_person_id IS NULL) <> (person_record_id IS NULL)),
        FOREIGN KEY (client_id, face_person_id) REFERENCES face_persons (client_id, id) ON DELETE CASCADE,
        FOREIGN KEY (client_id, person_record_id) REFERENCES person_records (client_id, id) ON DELETE CASCADE
      );
      CREATE INDEX face_templates_by_face_person ON face_templates (face_person_id);
      CREATE INDEX face_templates_by_person_record ON face_templates (person_record_id);
      CREATE INDEX face_templates_by_model ON face_templates (model_version, id);

      -- Kept apart so the start-up index rebuild scans dense embedding rows, not JPEGs.
      CREATE TABLE face_thumbnails (
        template_id bigint PRIMARY KEY REFERENCES face_templates (id) ON DELETE CASCADE,
        jpeg        bytea NOT NULL
      );

      CREATE TABLE liveness_sessions (
        id              text PRIMARY KEY,
        client_id       text NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
        status          text NOT NULL CHECK (status IN ('CREATED', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'EXPIRED')),
        steps           jsonb NOT NULL,
        nonce           text NOT NULL,
        min_score       double precision NOT NULL,
        max_attempts    integer NOT NULL,
        failed_attempts integer NOT NULL DEFAULT 0,
        result          jsonb,
        created_at      text NOT NULL,
        updated_at      text NOT NULL,
        expires_at      text NOT NULL,
        consumed_at     text,
        UNIQUE (client_id, id)
      );
      CREATE INDEX liveness_sessions_open_by_expiry ON liveness_sessions (status, expires_at);

      CREATE TABLE liveness_session_frames (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        client_id    text NOT NULL,
        session_id   text NOT NULL,
        attempt      integer NOT NULL,
        seq          integer NOT NULL,
        timestamp_ms double precision NOT NULL,
        analysis     jsonb NOT NULL,
        embedding    bytea,
        image        bytea,
        role         text,
        FOREIGN KEY (client_id, session_id) REFERENCES liveness_sessions (client_id, id) ON DELETE CASCADE
      );
      CREATE INDEX liveness_session_frames_by_session ON liveness_session_frames (session_id, attempt, seq);

      -- The audit trail: ids only, append-only for every writer (see src/store/sqlite/migrations.ts, version 6).
      CREATE TABLE audit_events (
        seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at         text NOT NULL,
        client_id  text,
        token_id   text,
        request_id text,
        route      text NOT NULL,
        action     text NOT NULL,
        outcome    text NOT NULL,
        status     integer,
        subject    text,
        details    jsonb
      );
      CREATE INDEX audit_events_by_time ON audit_events (at);

      CREATE TABLE audit_retention (
        id     integer PRIMARY KEY CHECK (id = 1),
        cutoff text NOT NULL
      );
      INSERT INTO audit_retention (id, cutoff) VALUES (1, '');

      CREATE FUNCTION audit_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'UPDATE' THEN
          RAISE EXCEPTION 'audit_events is append-only';
        END IF;
        IF OLD.at >= (SELECT cutoff FROM audit_retention WHERE id = 1) THEN
          RAISE EXCEPTION 'audit_events is append-only: only rows older than the retention cutoff can be deleted';
        END IF;
        RETURN OLD;
      END $$;
      CREATE TRIGGER audit_events_guard BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_guard();
      CREATE FUNCTION audit_retention_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          RAISE EXCEPTION 'audit_retention cannot be deleted';
        END IF;
        IF NEW.cutoff < OLD.cutoff OR NEW.cutoff > to_char((now() AT TIME ZONE 'UTC') - interval '1 day', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') THEN
          RAISE EXCEPTION 'the audit retention cutoff only moves forward, and never to within a day of now';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER audit_retention_guard BEFORE UPDATE OR DELETE ON audit_retention
        FOR EACH ROW EXECUTE FUNCTION audit_retention_guard();

      -- The change feed: ids and a time only. seq is assigned under a transaction-scoped advisory lock held until
      -- commit (./connection.ts), so commit order equals seq order.
      CREATE TABLE index_changes (
        seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        client_id text NOT NULL,
        person_id text NOT NULL,
        at        text NOT NULL
      );

      CREATE TABLE signing_keys (
        kid         text PRIMARY KEY,
        alg         text NOT NULL CHECK (alg IN ('EdDSA', 'ES256')),
        private_jwk text NOT NULL,
        public_jwk  text NOT NULL,
        created_at  text NOT NULL,
        retired_at  text
      );
      CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys ((true)) WHERE retired_at IS NULL;
    `,
  },
  {
    version: 2,
    name: 'change feed appended in one round trip',
    // Lock, append and wake-up used to be three statements at the end of every writing transaction; one call
    // does the same, in the same order: the lock is taken before any seq is drawn. The lock key is FEED_LOCK
    // (./connection.ts).
    sql: /* sql */ `
      CREATE FUNCTION facegate_append_changes(clients text[], persons text[], at text) RETURNS void
      LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_advisory_xact_lock(1180787557, 2); -- FEED_LOCK: 0x46616365 ('Face'), 2
        INSERT INTO index_changes (client_id, person_id, at) SELECT c, p, at FROM unnest(clients, persons) AS u(c, p);
        PERFORM pg_notify('facegate_changes', '');
      END $$;
    `,
  },
  {
    version: 3,
    name: "liveness sessions: the browser's capture credential (hashed), its allowed origin, the validity after success",
    // As SQLite's version 8 (src/store/sqlite/migrations.ts).
    sql: /* sql */ `
      ALTER TABLE liveness_sessions ADD COLUMN capture_token_hash text;
      ALTER TABLE liveness_sessions ADD COLUMN allowed_origin text;
      ALTER TABLE liveness_sessions ADD COLUMN valid_for integer NOT NULL DEFAULT 300;
      ALTER TABLE liveness_sessions ADD COLUMN succeeded_at text;
      CREATE UNIQUE INDEX liveness_sessions_by_capture_token ON liveness_sessions(capture_token_hash) WHERE capture_token_hash IS NOT NULL;
    `,
  },
  {
    version: 4,
    name: 'your own ids on face persons; the digest of the photo each template came from',
    // See src/store/sqlite/migrations.ts, version 9.
    sql: /* sql */ `
      ALTER TABLE face_persons ADD COLUMN external_id text;
      CREATE UNIQUE INDEX face_persons_by_external_id ON face_persons (client_id, external_id) WHERE external_id IS NOT NULL;
      ALTER TABLE face_templates ADD COLUMN source_sha256 text;
      CREATE INDEX face_templates_by_source ON face_templates (client_id, source_sha256) WHERE source_sha256 IS NOT NULL;
    `,
  },
  {
    version: 5,
    name: "audit trail: how each action came (api, console, operator) and the caller's own request id",
    // As SQLite's migration 10: the caller's x-request-id beside the server's request id, never in its place.
    sql: /* sql */ `
      ALTER TABLE audit_events ADD COLUMN via text CHECK (via IS NULL OR via IN ('api', 'console', 'operator'));
      ALTER TABLE audit_events ADD COLUMN caller_request text;
    `,
  },
];
