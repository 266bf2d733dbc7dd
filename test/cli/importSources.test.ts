// What `import` reads from a folder, a CSV or a JSONL file (no engine needed).
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSource, SourceError } from '../../src/cli/importSources.js';
import { tempDir } from '../store/helpers.js';

let root: string;
let cleanup: () => void;
beforeAll(() => {
  ({ dir: root, cleanup } = tempDir('facegate-sources-'));
});
afterAll(() => cleanup?.());

describe('folders', () => {
  it('one sub-folder per person, in natural order; links followed; other files ignored and counted', async () => {
    const d = path.join(root, 'tree');
    await mkdir(path.join(d, 'Jane_Doe'), { recursive: true });
    await mkdir(path.join(root, 'elsewhere', 'Li_Wei'), { recursive: true });
    await writeFile(path.join(d, 'Jane_Doe', 'b10.JPG'), 'x');
    await writeFile(path.join(d, 'Jane_Doe', 'b2.png'), 'x');
    await writeFile(path.join(d, 'Jane_Doe', 'notes.txt'), 'x');
    await writeFile(path.join(root, 'elsewhere', 'Li_Wei', 'a.webp'), 'x');
    await symlink(path.join(root, 'elsewhere', 'Li_Wei'), path.join(d, 'Li_Wei'));
    await writeFile(path.join(root, 'elsewhere', 'one.jpg'), 'x');
    await mkdir(path.join(d, 'Max_Linked'));
    await symlink(path.join(root, 'elsewhere', 'one.jpg'), path.join(d, 'Max_Linked', 'one.jpg'));
    const { people, ignored } = await readSource(d, { keyAsExternalId: true, collections: ['Staff'] });
    expect(people.map((p) => [p.name, p.external_id, p.photos.map((f) => path.basename(f))])).toEqual([
      ['Jane Doe', 'Jane_Doe', ['b2.png', 'b10.JPG']],
      ['Li Wei', 'Li_Wei', ['a.webp']],
      ['Max Linked', 'Max_Linked', ['one.jpg']],
    ]);
    expect(people[0].collections).toEqual(['Staff']);
    expect(ignored.map((f) => path.basename(f))).toEqual(['notes.txt']);
  });

  it('photos named PERSON<SEP>anything are grouped by the part before the last separator', async () => {
    const d = path.join(root, 'flat');
    await mkdir(d);
    for (const f of ['Aaron_Sorkin_0001.jpg', 'Aaron_Sorkin_0002.jpg', 'Abdullah_0001.jpg']) await writeFile(path.join(d, f), 'x');
    const { people } = await readSource(d, { separator: '_' });
    expect(people.map((p) => [p.name, p.photos.length])).toEqual([
      ['Aaron Sorkin', 2],
      ['Abdullah', 1],
    ]);
  });
});

describe('manifests', () => {
  it('CSV: quoted fields, lists split on | or ;, paths relative to the file, fields trimmed', async () => {
    const f = path.join(root, 'm.csv');
    await writeFile(f, '\ufeffName,External_ID,collections,images,gender,notes\n"Doe, Jane", E1 ,A|B,x.jpg;sub/y.jpg,f,"said ""hi"""\n');
    const { people } = await readSource(f);
    expect(people).toEqual([
      { origin: 'm.csv:2', name: 'Doe, Jane', external_id: 'E1', collections: ['A', 'B'], gender: 'F', notes: 'said "hi"', photos: [path.join(root, 'x.jpg'), path.join(root, 'sub/y.jpg')] },
    ]);
  });

  it('JSONL and CSV errors name the line', async () => {
    const j = path.join(root, 'bad.jsonl');
    await writeFile(j, '{"name": "A", "images": ["a.jpg"]}\n\nnot json\n');
    await expect(readSource(j)).rejects.toThrow(/bad\.jsonl:3: not JSON/);
    const c = path.join(root, 'bad.csv');
    await writeFile(c, 'name,images,gender\nA,a.jpg,X\n');
    await expect(readSource(c)).rejects.toThrow(/bad\.csv:2: "gender" must be M or F/);
    await writeFile(c, 'name,images\nA,\n');
    await expect(readSource(c)).rejects.toThrow(SourceError);
    await expect(readSource(path.join(root, 'nothing-here'))).rejects.toThrow(/no such file or folder/);
  });
});
