// Best-k persons by score: a min-heap on the score so the weakest kept entry is at the root.

export class TopPersons {
  readonly k: number;
  size = 0;
  private readonly scores: Float64Array;
  private readonly persons: Int32Array;
  private readonly rows: Int32Array;

  constructor(k: number) {
    this.k = k;
    this.scores = new Float64Array(k);
    this.persons = new Int32Array(k);
    this.rows = new Int32Array(k);
  }

  /** Score an entry must beat to get in (−∞ until the heap is full). */
  get floor(): number {
    return this.size < this.k ? -Infinity : this.scores[0];
  }

  offer(score: number, person: number, row: number): void {
    if (this.size < this.k) {
      let i = this.size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (this.scores[parent] <= score) break;
        this.set(i, this.scores[parent], this.persons[parent], this.rows[parent]);
        i = parent;
      }
      this.set(i, score, person, row);
      return;
    }
    if (score <= this.scores[0]) return;
    let i = 0;
    const n = this.size;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.scores[r] < this.scores[l] ? r : l;
      if (this.scores[c] >= score) break;
      this.set(i, this.scores[c], this.persons[c], this.rows[c]);
      i = c;
    }
    this.set(i, score, person, row);
  }

  /** Entries best first. */
  sorted(): { score: number; person: number; row: number }[] {
    const out = [];
    for (let i = 0; i < this.size; i++) out.push({ score: this.scores[i], person: this.persons[i], row: this.rows[i] });
    return out.sort((a, b) => b.score - a.score || a.person - b.person);
  }

  private set(i: number, s: number, p: number, r: number): void {
    this.scores[i] = s;
    this.persons[i] = p;
    this.rows[i] = r;
  }
}

/**
 * Best-k persons where one person may be offered several times (its rows arrive one by one): a person keeps its
 * best score. k is small (a search's result count), so a sorted array beats a heap with a position index.
 */
export class BestPersons {
  readonly k: number;
  size = 0;
  private readonly scores: Float64Array;
  private readonly persons: Int32Array;
  private readonly rows: Int32Array;

  constructor(k: number) {
    this.k = k;
    this.scores = new Float64Array(k);
    this.persons = new Int32Array(k);
    this.rows = new Int32Array(k);
  }

  /** Score an entry must beat to get in (−∞ until k persons are held). */
  get floor(): number {
    return this.size < this.k ? -Infinity : this.scores[this.k - 1];
  }

  offer(score: number, person: number, row: number): void {
    let i = this.persons.subarray(0, this.size).indexOf(person);
    if (i >= 0) {
      if (score <= this.scores[i]) return;
    } else {
      if (this.size === this.k && score <= this.scores[this.k - 1]) return;
      i = this.size < this.k ? this.size++ : this.k - 1;
    }
    // Move up to keep the array sorted best first.
    while (i > 0 && (this.scores[i - 1] < score || (this.scores[i - 1] === score && this.persons[i - 1] > person))) {
      this.scores[i] = this.scores[i - 1];
      this.persons[i] = this.persons[i - 1];
      this.rows[i] = this.rows[i - 1];
      i--;
    }
    this.scores[i] = score;
    this.persons[i] = person;
    this.rows[i] = row;
  }

  /** Entries best first. */
  sorted(): { score: number; person: number; row: number }[] {
    const out = [];
    for (let i = 0; i < this.size; i++) out.push({ score: this.scores[i], person: this.persons[i], row: this.rows[i] });
    return out;
  }
}
