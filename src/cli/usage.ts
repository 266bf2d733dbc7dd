// Usage text of the CLI's command modules, kept apart from them so that `npm run cli -- tokens …` does not load
// the engine, the index and the HTTP stack they import (src/cli.ts imports the commands only when they run).

export const IMPORT_USAGE = `  import SOURCE [--client NAME] [--collection NAME]... [--separator SEP] [--folder-ids] [--report FILE]
         [--dry-run] [--duplicate-min-score 0.8 | --no-duplicate-check] [--workers N] [--url URL --token TOKEN]
      Enrols people in bulk. SOURCE: a folder with one sub-folder of photos per person (the folder name is the
      name), or photos named PERSON<SEP>anything with --separator SEP; a .csv (header: name, external_id,
      collections, images, gender, date_of_birth, nationality, notes; lists separated by | or ;, paths relative to
      the file) or a .jsonl manifest with the same fields. --folder-ids: the folder name is also the external_id.
      Every photo is checked as POST /persons checks it; a bad photo is refused alone, a face matching someone
      already enrolled is refused as a duplicate. Run it again: people already in (same external_id, or a photo
      already enrolled) are skipped. The report (CSV, default import-report-<time>.csv) lists every refusal and
      its reason. Locally the server must be stopped (SQLite) or the database is PostgreSQL; --url URL --token T
      imports through a running server's API instead (honouring Retry-After).
  import --from-archive FILE [--client NAME]
      Imports an archive made by "export" (same or other backend). Encrypted archives ask for
      FACEGATE_ARCHIVE_PASSPHRASE (environment) or --passphrase-file FILE.`;

export const EXPORT_USAGE = `  export FILE [--client NAME]... [--encrypt [--passphrase-file FILE]]
      Writes one archive (gzip-compressed JSON lines) of the face persons, collections, external ids and templates
      (with their model version and the face images re-embedding needs) of every client, or of --client NAME.
      --encrypt: encrypted with a passphrase (age format) taken from FACEGATE_ARCHIVE_PASSPHRASE or the first line
      of --passphrase-file. Erased people are never in it. Runs beside the server.`;

export const BACKUP_USAGE = `  backup DIR
      Copies the SQLite store of DATA_DIR (while the server runs: SQLite's online backup API, a consistent state of
      the database) and its signing key into DIR, a new or empty folder. Restore: start the server with DATA_DIR=DIR
      (or copy both files into an empty DATA_DIR). With DATABASE_URL: see docs/deploy.md, "Backup and restore".`;
