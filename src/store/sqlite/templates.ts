// Face templates (embeddings) and their thumbnails, owned by a face person or a generic person record. Only face
// persons' templates are in the vector index, so only their writes go into the change feed.
import { UnknownReferenceError } from '../../domain/errors.js';
import type { FaceQualityRecord, FaceTemplate, NewFaceTemplate } from '../../domain/model.js';
import { bytesToEmbedding, embeddingToBytes, isoNow } from '../shared.js';
import type { IndexEntry, TemplateRepo } from '../../domain/ports.js';
import type { Row, Scope } from './connection.js';

const toTemplate = (r: Row): FaceTemplate => ({
  id: r.id as number,
  client: r.client_id as string,
  person: ((r.face_person_id as string | null) ?? r.person_record_id) as string,
  imageIndex: r.image_index as number,
  modelVersion: r.model_version as string,
  embedding: bytesToEmbedding(r.embedding as Buffer),
  thumbnail: r.jpeg ? new Uint8Array(r.jpeg as Buffer) : null,
  quality: r.quality ? (JSON.parse(r.quality as string) as FaceQualityRecord) : null,
  createdAt: r.created_at as string,
});

const SELECT = `SELECT t.*, th.jpeg FROM face_templates t LEFT JOIN face_thumbnails th ON th.template_id = t.id`;

export class SqliteTemplates implements TemplateRepo {
  constructor(
    private readonly s: Scope,
    /** Persons per batch in iterateIndexEntries(). */
    private readonly batchSize: number,
  ) {}

  async add(t: NewFaceTemplate): Promise<FaceTemplate> {
    const blob = embeddingToBytes(t.embedding);
    const now = isoNow();
    return this.s.write('template', (q, w) => {
      let owner: 'face_person_id' | 'person_record_id';
      if (q('SELECT 1 FROM face_persons WHERE client_id = ? AND id = ?').get(t.client, t.person)) owner = 'face_person_id';
      else if (q('SELECT 1 FROM person_records WHERE client_id = ? AND id = ?').get(t.client, t.person)) owner = 'person_record_id';
      else throw new UnknownReferenceError('person', t.person);
      const info = q(
        `INSERT INTO face_templates (client_id, ${owner}, image_index, model_version, quality, created_at, embedding)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(t.client, t.person, t.imageIndex, t.modelVersion, t.quality ? JSON.stringify(t.quality) : null, now, blob);
      const id = Number(info.lastInsertRowid);
      if (t.thumbnail) q('INSERT INTO face_thumbnails (template_id, jpeg) VALUES (?, ?)').run(id, Buffer.from(t.thumbnail));
      if (owner === 'face_person_id') w.touch(t.client, t.person);
      return toTemplate(q(`${SELECT} WHERE t.client_id = ? AND t.id = ?`).get(t.client, id) as Row);
    });
  }

  async listForPerson(client: string, person: string): Promise<FaceTemplate[]> {
    return this.s.read((q) =>
      (
        q(
          `${SELECT} WHERE t.client_id = @client AND t.face_person_id = @person
           UNION ALL ${SELECT} WHERE t.client_id = @client AND t.person_record_id = @person
           ORDER BY image_index, id`,
        ).all({ client, person }) as Row[]
      ).map(toTemplate),
    );
  }

  async deleteForPerson(client: string, person: string): Promise<number> {
    return this.s.write('template', (q, w) => {
      const a = q('DELETE FROM face_templates WHERE client_id = ? AND face_person_id = ?').run(client, person).changes;
      const b = q('DELETE FROM face_templates WHERE client_id = ? AND person_record_id = ?').run(client, person).changes;
      if (a > 0) w.touch(client, person);
      if (a + b > 0) w.biometricDeleted();
      return a + b;
    });
  }

  async listStale(modelVersion: string, afterId: number, limit: number): Promise<FaceTemplate[]> {
    return this.s.read((q) =>
      (q(`${SELECT} WHERE t.model_version <> ? AND t.id > ? ORDER BY t.id LIMIT ?`).all(modelVersion, afterId, limit) as Row[]).map(toTemplate),
    );
  }

  async countStale(modelVersion: string): Promise<number> {
    return this.s.read((q) => (q('SELECT count(*) AS n FROM face_templates WHERE model_version <> ?').get(modelVersion) as { n: number }).n);
  }

  async reembed(id: number, t: Pick<FaceTemplate, 'modelVersion' | 'embedding' | 'thumbnail' | 'quality'>): Promise<boolean> {
    const blob = embeddingToBytes(t.embedding);
    return this.s.write('template', (q, w) => {
      const owner = q('SELECT client_id, face_person_id FROM face_templates WHERE id = ?').get(id) as Row | undefined;
      if (!owner) return false;
      q('UPDATE face_templates SET model_version = ?, quality = ?, embedding = ? WHERE id = ?').run(
        t.modelVersion,
        t.quality ? JSON.stringify(t.quality) : null,
        blob,
        id,
      );
      if (t.thumbnail) {
        q('INSERT INTO face_thumbnails (template_id, jpeg) VALUES (?, ?) ON CONFLICT (template_id) DO UPDATE SET jpeg = excluded.jpeg').run(
          id,
          Buffer.from(t.thumbnail),
        );
      }
      if (owner.face_person_id !== null) w.touch(owner.client_id as string, owner.face_person_id as string);
      return true;
    });
  }

  async countIndexEntries(): Promise<number> {
    return this.s.read((q) => (q('SELECT count(*) AS n FROM face_templates WHERE face_person_id IS NOT NULL').get() as { n: number }).n);
  }

  async *iterateIndexEntries(): AsyncGenerator<IndexEntry> {
    if (this.s.inTransaction) throw new Error('iterateIndexEntries is not available inside a transaction');
    const conn = this.s.connection;
    conn.assertUsable('templates.iterateIndexEntries');
    // A dedicated connection holding one read transaction: a consistent snapshot across batches without pinning
    // the shared reader's snapshot (which would make every request read stale data).
    const db = conn.openSnapshotConnection();
    try {
      db.exec('BEGIN');
      const personsAfter = db.prepare('SELECT id, client_id FROM face_persons WHERE id > ? ORDER BY id LIMIT ?');
      const membersIn = db.prepare(
        'SELECT person_id, collection_id FROM face_person_collections WHERE person_id >= ? AND person_id <= ? ORDER BY rowid',
      );
      const templatesIn = db.prepare(
        `SELECT id, face_person_id, model_version, embedding FROM face_templates
         WHERE face_person_id >= ? AND face_person_id <= ? ORDER BY face_person_id, image_index, id`,
      );
      let after = '';
      for (;;) {
        const batch = personsAfter.all(after, this.batchSize) as { id: string; client_id: string }[];
        if (batch.length === 0) break;
        const first = batch[0].id;
        const last = batch[batch.length - 1].id;
        const entries = new Map<string, IndexEntry>(batch.map((p) => [p.id, { client: p.client_id, person: p.id, collections: [], templates: [] }]));
        for (const m of membersIn.all(first, last) as { person_id: string; collection_id: string }[]) {
          entries.get(m.person_id)?.collections.push(m.collection_id);
        }
        for (const t of templatesIn.all(first, last) as { id: number; face_person_id: string; model_version: string; embedding: Buffer }[]) {
          entries.get(t.face_person_id)?.templates.push({ id: t.id, modelVersion: t.model_version, embedding: bytesToEmbedding(t.embedding) });
        }
        for (const e of entries.values()) yield e;
        after = last;
        if (batch.length < this.batchSize) break;
      }
    } finally {
      if (db.inTransaction) db.exec('COMMIT');
      db.close();
    }
  }
}
