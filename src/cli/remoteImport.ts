// `import --url URL --token TOKEN`: the same import through a running server's API, for a server that must stay up
// (SQLite) or one on another machine. The server's own POST /persons enrols; this side only chooses what to send:
// it skips people already there (GET /persons?external_id= or ?photo_sha256=), runs the duplicate check with
// search-active-user, and when the enrolment is refused because of one photo, drops that photo and tries again.
// 429 and 503 answers are retried after their Retry-After.
import type { PhotoRefusal, RefusalReason } from '../domain/importPersons.js';
import { imageDigest, type InputImage } from '../domain/faces.js';
import type { ImportRunOptions, ImportTarget, PersonOutcome } from './import.js';
import type { SourcePerson } from './importSources.js';
import { CliFailure } from './shared.js';

interface ApiAnswer {
  status: number;
  body: Record<string, any>;
}

const API = '/v2/face-recognition';

export class RemoteTarget implements ImportTarget {
  private readonly collectionIds = new Map<string, Promise<string>>();
  /** Retries after 429/503 so far (reported at the end). */
  waits = 0;

  private constructor(
    private readonly base: string,
    private readonly token: string,
    private readonly opts: ImportRunOptions,
    private readonly log: (line: string) => void,
  ) {}

  static async connect(o: { url: string; token: string; opts: ImportRunOptions; log: (line: string) => void }): Promise<RemoteTarget> {
    let base: string;
    try {
      base = new URL(o.url).toString().replace(/\/+$/, '');
    } catch {
      throw new CliFailure(`--url ${o.url} is not a URL`);
    }
    const t = new RemoteTarget(base, o.token, o.opts, o.log);
    const r = await t.call('GET', `${API}/persons?limit=1`);
    if (r.status === 401 || r.status === 403) throw new CliFailure(`${base} refused the token (${r.status} ${r.body.message ?? ''})`);
    if (r.status !== 200) throw new CliFailure(`${base} answered ${r.status} to GET /persons: ${r.body.message ?? ''}`);
    return t;
  }

  /** One API call; waits and retries while the server says 429 or 503 (Retry-After), or cannot be reached. */
  private async call(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(`${this.base}${path}`, {
          method,
          headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (e) {
        if (attempt >= 5) throw new CliFailure(`${this.base} cannot be reached: ${(e as Error).message}`);
        await sleep(1000 * 2 ** attempt);
        continue;
      }
      const text = await res.text();
      if ((res.status === 429 || res.status === 503) && attempt < 100) {
        const after = Number(res.headers.get('retry-after'));
        const seconds = Number.isFinite(after) && after > 0 ? after : 1;
        if (this.waits++ % 20 === 0) this.log(`server answered ${res.status}: waiting ${seconds} s as its Retry-After says`);
        await sleep(seconds * 1000);
        continue;
      }
      let parsed: Record<string, any> = {};
      try {
        parsed = text ? JSON.parse(text) : {};
      } catch {
        parsed = { message: text.slice(0, 200) };
      }
      return { status: res.status, body: parsed };
    }
  }

  private collection(ref: string): Promise<string> {
    let p = this.collectionIds.get(ref);
    if (!p) {
      p = (async () => {
        const byId = await this.call('GET', `${API}/collections/${encodeURIComponent(ref)}`);
        if (byId.status === 200) return byId.body.data._id as string;
        const named = await this.call('GET', `${API}/collections?name=${encodeURIComponent(ref)}&limit=100`);
        const hit = (named.body.data ?? []).find((c: { name: string }) => c.name === ref);
        if (hit) return hit._id as string;
        if (this.opts.dryRun) return ref;
        const made = await this.call('POST', `${API}/collections`, { name: ref, description: 'Created by npm run cli -- import' });
        if (made.status !== 200) throw new CliFailure(`cannot create collection "${ref}": ${made.status} ${made.body.message}`);
        return made.body.data._id as string;
      })();
      this.collectionIds.set(ref, p);
    }
    return p;
  }

  private async findImported(p: SourcePerson, images: InputImage[]): Promise<PersonOutcome | null> {
    if (p.external_id) {
      const r = await this.call('GET', `${API}/persons?external_id=${encodeURIComponent(p.external_id)}`);
      if (r.status === 200 && r.body.data?.[0]) return { status: 'skipped', person: r.body.data[0]._id, by: 'external_id' };
      return null;
    }
    for (const img of images) {
      const r = await this.call('GET', `${API}/persons?photo_sha256=${imageDigest(img.bytes)}`);
      if (r.status === 200 && r.body.data?.[0]) return { status: 'skipped', person: r.body.data[0]._id, by: 'photo_digest' };
    }
    return null;
  }

  /** A refused answer about one photo (`field` images[i]) → that photo's refusal; null when it is about the person. */
  private static photoProblem(a: ApiAnswer): { index: number; reason: RefusalReason } | null {
    const m = /^images\[(\d+)\]$/.exec(String(a.body.field ?? '')) ?? /^image$/.exec(String(a.body.field ?? ''));
    if (!m) return null;
    const index = m[1] === undefined ? 0 : Number(m[1]);
    const code = String(a.body.code ?? '');
    const hint = `${a.body.hint ?? ''} ${a.body.message ?? ''}`;
    let reason: RefusalReason = 'unreadable_file';
    if (code === 'NO_FACE') reason = 'no_face';
    else if (code === 'MULTIPLE_FACES') reason = 'several_faces';
    else if (code === 'DIFFERENT_PERSON') reason = 'different_person';
    else if (a.status === 413) reason = 'too_large';
    else if (/too.small/i.test(hint)) reason = 'too_small';
    return { index, reason };
  }

  async importOne(p: SourcePerson, given: InputImage[], unreadable: PhotoRefusal[]): Promise<PersonOutcome> {
    const refused = [...unreadable];
    const done = await this.findImported(p, given);
    if (done) return done;
    let images = given;
    // Photo by photo: the duplicate check (as search-active-user sees the face) and a first look at each photo.
    if (this.opts.duplicateMinScore !== null) {
      const kept: InputImage[] = [];
      for (const img of images) {
        const r = await this.call('POST', `${API}/search-active-user`, {
          os: 'DESKTOP',
          search_mode: 'ACCURATE',
          min_score: this.opts.duplicateMinScore,
          image: Buffer.from(img.bytes).toString('base64'),
        });
        if (r.status === 200) {
          const hit = r.body.data?.[0];
          if (hit) {
            return { status: 'refused', reason: 'duplicate', detail: `matches person ${hit.id} with score ${hit.score}`, refused, duplicateOf: { id: hit.id, externalId: null, score: hit.score } };
          }
          kept.push(img);
          continue;
        }
        const problem = RemoteTarget.photoProblem(r);
        if (!problem) throw new CliFailure(`${p.origin}: search-active-user answered ${r.status} ${r.body.message}`);
        refused.push({ photo: img.field, reason: problem.reason, detail: String(r.body.message ?? '') });
      }
      images = kept;
    }
    for (const extra of images.slice(this.opts.maxImages)) refused.push({ photo: extra.field, reason: 'too_many_images', detail: `only ${this.opts.maxImages} photos per person (MAX_IMAGES)` });
    images = images.slice(0, this.opts.maxImages);
    if (this.opts.dryRun) {
      return images.length ? { status: 'would_import', photos: images.length, refused } : { status: 'refused', reason: 'no_usable_photo', detail: 'every photo was refused', refused };
    }
    const collections = await Promise.all(p.collections.map((c) => this.collection(c)));
    const fields: Record<string, unknown> = { name: p.name, collections };
    for (const k of ['external_id', 'gender', 'date_of_birth', 'nationality', 'notes'] as const) if (p[k] !== undefined) fields[k] = p[k];
    while (images.length) {
      const r = await this.call('POST', `${API}/persons`, { ...fields, images: images.map((i) => Buffer.from(i.bytes).toString('base64')) });
      if (r.status === 200) return { status: 'imported', personId: r.body.data._id, photos: images.length, refused };
      const problem = RemoteTarget.photoProblem(r);
      if (problem && images[problem.index]) {
        refused.push({ photo: images[problem.index].field, reason: problem.reason, detail: String(r.body.message ?? '') });
        images = images.filter((_, i) => i !== problem.index);
        continue;
      }
      const message = String(r.body.message ?? '');
      if (/external_id_taken/.test(message)) return { status: 'refused', reason: 'external_id_taken', detail: message, refused };
      if (r.body.code === 'MissingParameter') return { status: 'refused', reason: 'invalid_field', detail: message, refused };
      throw new CliFailure(`${p.origin}: POST /persons answered ${r.status} ${message}`);
    }
    return { status: 'refused', reason: 'no_usable_photo', detail: 'every photo was refused', refused };
  }

  async close(): Promise<void> {
    if (this.waits) this.log(`waited ${this.waits} time(s) for the server (429/503 with Retry-After)`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
