// What the writes of one transaction report to its commit, the same on both backends: the face persons whose index
// entries changed (one change-feed row each, however many writes touched them) and whether biometric rows were
// deleted (SQLite then checkpoints its WAL, PostgreSQL vacuums the biometric tables).

/** What a write may report to the transaction it runs in. */
export interface WriteContext {
  /** What the vector index holds for this face person changed: one change-feed row at commit. */
  touch(client: string, person: string): void;
  /** Rows holding biometric data were deleted: the backend clears their traces after the commit. */
  biometricDeleted(): void;
}

/** The writes of one transaction that the commit must act on. */
export class PendingWrites implements WriteContext {
  readonly touched = new Map<string, { client: string; person: string }>();
  biometric = false;
  touch(client: string, person: string): void {
    this.touched.set(`${client}\u0000${person}`, { client, person });
  }
  biometricDeleted(): void {
    this.biometric = true;
  }
}
