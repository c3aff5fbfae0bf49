/**
 * Text operations and their inclusion transformations, matching libinftext
 * (inf-text-insert-operation.c, inf-text-delete-operation.c, inf-text-default-*-operation.c,
 * inf-text-remote-delete-operation.c, inf-text-move-operation.c) and libinfinity's
 * inf-adopted-split-operation.c / inf-adopted-no-operation.c.
 */
import { Chunk } from './chunk.js';
import { transformCaretDelete, transformCaretInsert } from './caret.js';

export interface InsertOp {
  readonly kind: 'insert';
  readonly pos: number;
  readonly chunk: Chunk;
}

/** One piece of text a remote delete lost to concurrent deletes (offset into the original range). */
export interface ReconPiece {
  readonly position: number;
  readonly chunk: Chunk;
}

/**
 * A delete. With `chunk` it is reversible (a "default" delete: the removed text is known); without,
 * it is a delete received as pos+len only, which collects `recon` pieces while being transformed so
 * that the removed text can be rebuilt once it is applied (inf-text-remote-delete-operation.c).
 */
export interface DeleteOp {
  readonly kind: 'delete';
  readonly pos: number;
  readonly len: number;
  readonly chunk: Chunk | null;
  readonly recon: readonly ReconPiece[];
  readonly reconOffset: number;
}

/** Two operations applied one after the other (inf-adopted-split-operation.c): deletes, or inserts once undone. */
export interface SplitOp {
  readonly kind: 'split';
  readonly first: Op;
  readonly second: Op;
}

export interface NoOp {
  readonly kind: 'no-op';
}

export interface MoveOp {
  readonly kind: 'move';
  readonly caret: number;
  readonly selection: number;
}

export type Op = InsertOp | DeleteOp | SplitOp | NoOp | MoveOp;

/**
 * Diagnostics for tests: how many insert/insert ties were decided by user id. libinfinity's
 * known order-dependence (TP2 "false ties") can only arise through such ties.
 */
export const tieStats = { ties: 0 };

/** Concurrency id (InfAdoptedConcurrencyId): +1 OTHER (this op stays left in a tie), -1 SELF, 0 NONE. */
export type ConcurrencyId = 1 | 0 | -1;

export const NOOP: NoOp = { kind: 'no-op' };

export function insertOp(pos: number, chunk: Chunk): InsertOp {
  return { kind: 'insert', pos, chunk };
}

export function deleteOp(pos: number, chunk: Chunk): DeleteOp {
  return { kind: 'delete', pos, len: chunk.length, chunk, recon: EMPTY_RECON, reconOffset: 0 };
}

export function remoteDeleteOp(pos: number, len: number): DeleteOp {
  return { kind: 'delete', pos, len, chunk: null, recon: EMPTY_RECON, reconOffset: 0 };
}

const EMPTY_RECON: readonly ReconPiece[] = [];

/** INF_ADOPTED_OPERATION_AFFECTS_BUFFER. */
export function affectsBuffer(op: Op): boolean {
  switch (op.kind) {
    case 'insert':
    case 'delete':
      return true;
    case 'split':
      return affectsBuffer(op.first) || affectsBuffer(op.second);
    case 'no-op':
    case 'move':
      return false;
  }
}

/** INF_ADOPTED_OPERATION_REVERSIBLE. */
export function isReversible(op: Op): boolean {
  switch (op.kind) {
    case 'insert':
    case 'no-op':
      return true;
    case 'delete':
      return op.chunk !== null;
    case 'split':
      return isReversible(op.first) && isReversible(op.second);
    case 'move':
      return false;
  }
}

/** The inverse operation (inf_adopted_operation_revert); only for reversible operations. */
export function revert(op: Op): Op {
  switch (op.kind) {
    case 'insert':
      return deleteOp(op.pos, op.chunk);
    case 'delete':
      if (!op.chunk) throw new Error('cannot revert a delete whose text is unknown');
      return insertOp(op.pos, op.chunk);
    case 'split':
      return { kind: 'split', first: revert(op.second), second: revert(op.first) };
    case 'no-op':
      return NOOP;
    case 'move':
      throw new Error('cannot revert a move');
  }
}

/** Includes the effect of `against` into `op`; both are defined on the same document state. */
export function transform(op: Op, against: Op, cid: ConcurrencyId): Op {
  // inf_adopted_operation_transform: a split `against` is handled part by part first.
  if (against.kind === 'split') {
    return transform(transform(op, against.first, cid), against.second, cid);
  }
  switch (op.kind) {
    case 'no-op':
      return op;
    case 'move':
      return transformMove(op, against);
    case 'insert':
      if (against.kind === 'insert') return transformInsertInsert(op, against, cid);
      if (against.kind === 'delete') return transformInsertDelete(op, against);
      return op;
    case 'delete':
      if (against.kind === 'insert') return transformDeleteInsert(op, against);
      if (against.kind === 'delete') return transformDeleteDelete(op, against);
      return op;
    case 'split': {
      // inf_adopted_split_operation_transform: the second part sees `against` after the first part.
      const first = transform(op.first, against, cid);
      const againstAfterFirst = transform(against, op.first, (-cid) as ConcurrencyId);
      const second = transform(op.second, againstAfterFirst, cid);
      return { kind: 'split', first, second };
    }
  }
}

function transformInsertInsert(op: InsertOp, against: InsertOp, cid: ConcurrencyId): InsertOp {
  if (op.pos < against.pos) return op;
  if (op.pos > against.pos) return insertOp(op.pos + against.chunk.length, op.chunk);
  // Tie. libinfinity compares the positions at the least common successor, which in
  // translate_request_forward is always the state both are defined at, so only the id decides
  // (where libinfinity asserts because it saw no need for an id, we decide the same way).
  tieStats.ties++;
  if (cid === 1) return op;
  if (cid === -1) return insertOp(op.pos + against.chunk.length, op.chunk);
  throw new Error('two inserts at the same position need a concurrency id');
}

function transformInsertDelete(op: InsertOp, against: DeleteOp): InsertOp {
  if (op.pos >= against.pos + against.len) return insertOp(op.pos - against.len, op.chunk);
  if (op.pos < against.pos) return op;
  return insertOp(against.pos, op.chunk);
}

function transformDeleteInsert(op: DeleteOp, against: InsertOp): Op {
  const insLen = against.chunk.length;
  if (against.pos >= op.pos + op.len) return op;
  if (against.pos <= op.pos) return movedDelete(op, op.pos + insLen);
  return splitDelete(op, against.pos - op.pos, insLen);
}

function transformDeleteDelete(op: DeleteOp, against: DeleteOp): DeleteOp {
  const p = op.pos;
  const n = op.len;
  const q = against.pos;
  const m = against.len;
  if (p + n <= q) return op;
  if (p >= q + m) return movedDelete(op, p - m);
  // Overlapping: remove from op what `against` already removed (transform_overlap arguments:
  // new position, offset into op's range, offset into against's range, overlap length).
  if (q <= p && q + m >= p + n) return overlapDelete(op, against, q, 0, p - q, n);
  if (q <= p) return overlapDelete(op, against, q, 0, p - q, q + m - p);
  if (q + m >= p + n) return overlapDelete(op, against, p, q - p, 0, p + n - q);
  return overlapDelete(op, against, p, q - p, 0, m);
}

function movedDelete(op: DeleteOp, pos: number): DeleteOp {
  return { ...op, pos };
}

function overlapDelete(op: DeleteOp, other: DeleteOp, pos: number, begin: number, otherBegin: number, length: number): DeleteOp {
  if (op.chunk) {
    const chunk = op.chunk.erase(begin, length);
    return { kind: 'delete', pos, len: chunk.length, chunk, recon: EMPTY_RECON, reconOffset: 0 };
  }
  // A remote delete remembers what the other delete removed in its place.
  if (!other.chunk) throw new Error('a remote delete was transformed against a delete of unknown text');
  const lost = other.chunk.substring(otherBegin, length);
  return {
    kind: 'delete',
    pos,
    len: op.len - length,
    chunk: null,
    recon: feedRecon(op.recon, begin, lost),
    reconOffset: op.reconOffset,
  };
}

function splitDelete(op: DeleteOp, splitPos: number, splitLen: number): SplitOp {
  if (op.chunk) {
    const head = op.chunk.substring(0, splitPos);
    const tail = op.chunk.substring(splitPos, op.chunk.length - splitPos);
    return { kind: 'split', first: deleteOp(op.pos, head), second: deleteOp(op.pos + splitLen, tail) };
  }
  // Divide the recon pieces: those at or before the split point stay with the first part.
  const first: ReconPiece[] = [];
  const second: ReconPiece[] = [];
  let firstLen = 0;
  for (const r of op.recon) {
    if (r.position - firstLen <= splitPos) {
      first.push(r);
      firstLen += r.chunk.length;
    } else {
      second.push(r);
    }
  }
  const shift = splitPos + firstLen;
  return {
    kind: 'split',
    first: { kind: 'delete', pos: op.pos, len: splitPos, chunk: null, recon: first, reconOffset: op.reconOffset },
    second: {
      kind: 'delete',
      pos: op.pos + splitLen,
      len: op.len - splitPos,
      chunk: null,
      recon: second.map((r) => ({ position: r.position - shift, chunk: r.chunk })),
      reconOffset: op.reconOffset + shift,
    },
  };
}

/**
 * Merges `chunk`, removed at `position` of the delete's remaining range, into the recon list
 * whose positions are offsets into the full original range (inf_text_remote_delete_operation_recon_feed).
 */
export function feedRecon(recon: readonly ReconPiece[], position: number, chunk: Chunk): ReconPiece[] {
  const out: ReconPiece[] = [];
  let textPos = 0;
  let curLen = 0;
  const total = chunk.length;
  for (const r of recon) {
    if (position + textPos + curLen < r.position && textPos < total) {
      let take = r.position - position - textPos - curLen;
      if (take > total - textPos) take = total - textPos;
      out.push({ position: position + textPos + curLen, chunk: chunk.substring(textPos, take) });
      textPos += take;
    }
    curLen += r.chunk.length;
    out.push(r);
  }
  if (textPos < total) {
    out.push({ position: position + textPos + curLen, chunk: chunk.substring(textPos, total - textPos) });
  }
  return out;
}

function transformMove(op: MoveOp, against: Op): MoveOp {
  if (against.kind === 'insert') {
    const [caret, selection] = transformCaretInsert(against.pos, against.chunk.length, op.caret, op.selection, true);
    return { kind: 'move', caret, selection };
  }
  if (against.kind === 'delete') {
    const [caret, selection] = transformCaretDelete(against.pos, against.len, op.caret, op.selection);
    return { kind: 'move', caret, selection };
  }
  return op;
}

/** Operations of a split tree in execution order (inf_adopted_split_operation_unsplit). */
export function unsplit(op: Op, out: Op[] = []): Op[] {
  if (op.kind === 'split') {
    unsplit(op.first, out);
    unsplit(op.second, out);
  } else {
    out.push(op);
  }
  return out;
}
