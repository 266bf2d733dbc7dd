// Face templates (embeddings as float32 bytea) and their thumbnails, owned by a face person or a generic person
// record. Only face persons' templates are in the vector index, so only their writes go into the change feed.
import { UnknownReferenceError } from '../../domain/errors.js';
import type { FaceQualityRecord, FaceTemplate, NewFaceTemplate } from '../../domain/model.js';
import { bytesToEmbedding, embeddingToBytes, isoNow } from '../shared.js';
import type { IndexEntry, TemplateRepo } from '../../domain/ports.js';
import { isUnavailable, mapError, type Row, type Scope } from './connection.js';

const toTemplate = (r: Row): FaceTemplate => ({
  id: Number(r.id),
  client: r.client_id as string,
  person: ((r.face_person_id as string | null) ?? r.person_record_id) as string,
  imageIndex: r.image_index as number,
  modelVersion: r.model_version as string,
  embedding: bytesToEmbedding(r.embedding as Buffer),
  thumbnail: r.jpeg ? new Uint8Array(r.jpeg as Buffer) : null,
  quality: (r.quality as FaceQualityRecord | null) ?? null,
  createdAt: r.created_at as string,
});

const SELECT = `SELECT t.*, th.jpeg FROM face_templates t LEFT JOIN face_thumbnails th ON th.template_id = t.id`;

export class PgTemplates implements TemplateRepo {
  constructor(
    private readonly s: Scope,
    /** Persons per batch in iterateIndexEntries(). */
    private readonly batchSize: number,
  ) {}

  async add(t: NewFaceTemplate): Promise<FaceTemplate> {
    const blob = embeddingToBytes(t.embedding);
    const now = isoNow();
    return this.s.write('template', async (q, w) => {
      let owner: 'face_person_id' | 'person_record_id';
      // FOR KEY SHARE: the owner cannot be erased before this commits (its erasure then takes this template too).
      if ((await q('SELECT 1 FROM face_persons WHERE client_id = $1 AND id = $2 FOR KEY SHARE', [t.client, t.person])).rows.length) owner = 'face_person_id';
      else if ((await q('SELECT 1 FROM person_records WHERE client_id = $1 AND id = $2 FOR KEY SHARE', [t.client, t.person])).rows.length) owner = 'person_record_id';
      else throw new UnknownReferenceError('person', t.person);
      // One round trip for the template and its thumbnail.
      const thumbnail = t.thumbnail ? Buffer.from(t.thumbnail) : null;
      const { rows } = await q(
        `WITH t AS (
           INSERT INTO face_templates (client_id, ${owner}, image_index, model_version, quality, created_at, embedding)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *
         ), th AS (
           INSERT INTO face_thumbnails (template_id, jpeg) SELECT t.id, $8::bytea FROM t WHERE $8::bytea IS NOT NULL
         )
         SELECT t.* FROM t`,
        [t.client, t.person, t.imageIndex, t.modelVersion, t.quality ? JSON.stringify(t.quality) : null, now, blob, thumbnail],
      );
      const row = { ...rows[0], jpeg: thumbnail };
      if (owner === 'face_person_id') w.touch(t.client, t.person);
      return toTemplate(row);
    });
  }

  async listForPerson(client: string, person: string): Promise<FaceTemplate[]> {
    const { rows } = await this.s.read((q) =>
      q(`${SELECT} WHERE t.client_id = $1 AND (t.face_person_id = $2 OR t.person_record_id = $2) ORDER BY t.image_index, t.id`, [client, person]),
    );
    return rows.map(toTemplate);
  }

  async deleteForPerson(client: string, person: string): Promise<number> {
    return this.s.write('template', async (q, w) => {
      const a = (await q('DELETE FROM face_templates WHERE client_id = $1 AND face_person_id = $2', [client, person])).rowCount;
      const b = (await q('DELETE FROM face_templates WHERE client_id = $1 AND person_record_id = $2', [client, person])).rowCount;
      if (a > 0) w.touch(client, person);
      if (a + b > 0) w.biometricDeleted();
      return a + b;
    });
  }

  async listStale(modelVersion: string, afterId: number, limit: number): Promise<FaceTemplate[]> {
    const { rows } = await this.s.read((q) => q(`${SELECT} WHERE t.model_version <> $1 AND t.id > $2 ORDER BY t.id LIMIT $3`, [modelVersion, afterId, limit]));
    return rows.map(toTemplate);
  }

  async countStale(modelVersion: string): Promise<number> {
    const { rows } = await this.s.read((q) => q('SELECT count(*)::int AS n FROM face_templates WHERE model_version <> $1', [modelVersion]));
    return rows[0].n as number;
  }

  async reembed(id: number, t: Pick<FaceTemplate, 'modelVersion' | 'embedding' | 'thumbnail' | 'quality'>): Promise<boolean> {
    const blob = embeddingToBytes(t.embedding);
    return this.s.write('template', async (q, w) => {
      const { rows } = await q('UPDATE face_templates SET model_version = $1, quality = $2, embedding = $3 WHERE id = $4 RETURNING client_id, face_person_id', [
        t.modelVersion,
        t.quality ? JSON.stringify(t.quality) : null,
        blob,
        id,
      ]);
      if (!rows[0]) return false;
      if (t.thumbnail) {
        await q('INSERT INTO face_thumbnails (template_id, jpeg) VALUES ($1, $2) ON CONFLICT (template_id) DO UPDATE SET jpeg = excluded.jpeg', [
          id,
          Buffer.from(t.thumbnail),
        ]);
      }
      if (rows[0].face_person_id !== null) w.touch(rows[0].client_id as string, rows[0].face_person_id as string);
      return true;
    });
  }

  async countIndexEntries(): Promise<number> {
    const { rows } = await this.s.read((q) => q('SELECT count(*)::int AS n FROM face_templates WHERE face_person_id IS NOT NULL'));
    return rows[0].n as number;
  }

  async *iterateIndexEntries(): AsyncGenerator<IndexEntry> {
    if (this.s.inTransaction) throw new Error('iterateIndexEntries is not available inside a transaction');
    // One REPEATABLE READ transaction on a client of its own: a consistent snapshot across batches.
    const client = await this.s.connection.checkout();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      let after = '';
      for (;;) {
        const batch = (await client.query('SELECT id, client_id FROM face_persons WHERE id > $1 ORDER BY id LIMIT $2', [after, this.batchSize])).rows as {
          id: string;
          client_id: string;
        }[];
        if (batch.length === 0) break;
        const first = batch[0].id;
        const last = batch[batch.length - 1].id;
        const entries = new Map<string, IndexEntry>(batch.map((p) => [p.id, { client: p.client_id, person: p.id, collections: [], templates: [] }]));
        const members = await client.query(
          'SELECT person_id, collection_id FROM face_person_collections WHERE person_id >= $1 AND person_id <= $2 ORDER BY ord',
          [first, last],
        );
        for (const m of members.rows) entries.get(m.person_id)?.collections.push(m.collection_id);
        const templates = await client.query(
          `SELECT id, face_person_id, model_version, embedding FROM face_templates
           WHERE face_person_id >= $1 AND face_person_id <= $2 ORDER BY face_person_id, image_index, id`,
          [first, last],
        );
        for (const t of templates.rows) {
          entries.get(t.face_person_id)?.templates.push({ id: Number(t.id), modelVersion: t.model_version, embedding: bytesToEmbedding(t.embedding) });
        }
        for (const e of entries.values()) yield e;
        after = last;
        if (batch.length < this.batchSize) break;
      }
      await client.query('COMMIT');
    } catch (e) {
      if (isUnavailable(e)) broken = e as Error;
      else await client.query('ROLLBACK').catch((err: Error) => (broken = err));
      throw mapError(e);
    } finally {
      // Also reached when the consumer stops early (return()): end the read transaction before reuse.
      if (!broken) await client.query('ROLLBACK').catch((err: Error) => (broken = err));
      client.release(broken);
    }
  }
}
