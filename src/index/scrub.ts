// Erasure in graph snapshots. usearch's remove() only marks a node's slot free (its key becomes the "free key");
// the slot keeps its vector until a later insert reuses it, and save() writes every slot. A person erased while
// the server runs would therefore reach disk in the next snapshot as the int8 copy of its mean template. This
// walks the saved file and overwrites the vector of every free slot with zeros, so a snapshot holds live persons
// only. A removed node's links stay (they are slot numbers, nothing biometric): the graph stays valid, and a
// walk through such a node just sees it as far away.
//
// File layout written by usearch 2.x `index_dense_gt::save` (include/usearch/index_dense.hpp, index.hpp):
//   u32 rows, u32 bytesPerVector, rows × bytesPerVector   vectors, in slot order
//   64 bytes                                             metadata head, starting with the magic "usearch"
//   5 × u64                                              graph header: size, M, M0, max level, entry slot
//   size × i16                                           level of each node
//   per node: u64 key, i16 level, u32 count + M0 slots, level × (u32 count + M slots)
// The slot width is not in a fixed place, so it is the one width (4, 5 or 8 bytes) for which the nodes add up
// to exactly the file's length; any other mismatch throws, and the caller then keeps no snapshot at all.
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';

const FREE_KEY = 0xffffffffffffffffn;
const HEAD_BYTES = 64;
const GRAPH_HEADER_BYTES = 40;
const NODE_HEAD_BYTES = 10;

export class SnapshotFormatError extends Error {
  constructor(file: string, why: string) {
    super(`unexpected usearch file layout in ${file}: ${why}`);
    this.name = 'SnapshotFormatError';
  }
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return buf.subarray(0, done);
}

/** Zeroes the vector of every removed (free) slot of a saved usearch index; returns the slot counts. */
export function scrubFreeSlots(file: string): { slots: number; scrubbed: number } {
  const fd = openSync(file, 'r+');
  try {
    const fileSize = fstatSync(fd).size;
    const dims = readAt(fd, 0, 8);
    if (dims.length < 8) throw new SnapshotFormatError(file, 'too short');
    const rows = dims.readUInt32LE(0);
    const cols = dims.readUInt32LE(4);
    const headAt = 8 + rows * cols;
    const head = readAt(fd, headAt, HEAD_BYTES + GRAPH_HEADER_BYTES);
    if (head.length < HEAD_BYTES + GRAPH_HEADER_BYTES || head.toString('latin1', 0, 7) !== 'usearch') {
      throw new SnapshotFormatError(file, 'no metadata head after the vectors');
    }
    const size = Number(head.readBigUInt64LE(HEAD_BYTES));
    const m = Number(head.readBigUInt64LE(HEAD_BYTES + 8));
    const m0 = Number(head.readBigUInt64LE(HEAD_BYTES + 16));
    if (size !== rows) throw new SnapshotFormatError(file, `graph has ${size} nodes but ${rows} vectors`);
    const levelsAt = headAt + HEAD_BYTES + GRAPH_HEADER_BYTES;
    const levelBuf = readAt(fd, levelsAt, 2 * size);
    let levelSum = 0;
    for (let i = 0; i < size; i++) levelSum += levelBuf.readInt16LE(2 * i);
    const nodesAt = levelsAt + 2 * size;
    const slotBytes = [4, 5, 8].find(
      (s) => nodesAt + size * (NODE_HEAD_BYTES + 4 + m0 * s) + levelSum * (4 + m * s) === fileSize,
    );
    if (slotBytes === undefined) throw new SnapshotFormatError(file, 'node sizes do not add up to the file length');

    const zeros = Buffer.alloc(cols);
    let scrubbed = 0;
    let at = nodesAt;
    // The node keys are read through a window of the file (one read per node would be 400 k syscalls at 1 M faces).
    const WINDOW = 1 << 20;
    let window: Buffer = Buffer.alloc(0);
    let windowAt = 0;
    for (let i = 0; i < size; i++) {
      if (at + 8 > windowAt + window.length) {
        windowAt = at;
        window = readAt(fd, at, WINDOW);
        if (window.length < 8) throw new SnapshotFormatError(file, 'truncated node');
      }
      if (window.readBigUInt64LE(at - windowAt) === FREE_KEY) {
        writeSync(fd, zeros, 0, cols, 8 + i * cols);
        scrubbed++;
      }
      at += NODE_HEAD_BYTES + 4 + m0 * slotBytes + levelBuf.readInt16LE(2 * i) * (4 + m * slotBytes);
    }
    return { slots: size, scrubbed };
  } finally {
    closeSync(fd);
  }
}
