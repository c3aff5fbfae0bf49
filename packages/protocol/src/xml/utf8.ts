/**
 * Strict incremental UTF-8 decoding of a byte stream split anywhere, for the XML parser.
 *
 * In Node, a chunk is validated with buffer.isUtf8 and decoded with Buffer#toString (both
 * SIMD-accelerated), several times faster than a fatal TextDecoder; elsewhere (a browser) the
 * fatal streaming TextDecoder does the same job. Either way invalid input throws and nothing
 * is replaced: libxml2 refuses a stream that is not UTF-8.
 */

import { isAscii } from './chars.js';

interface NodeBuffer {
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): Uint8Array & { toString(encoding: 'utf8' | 'latin1'): string };
  concat(list: readonly Uint8Array[]): Uint8Array;
}
interface NodeBufferModule {
  Buffer: NodeBuffer;
  isUtf8(input: Uint8Array): boolean;
  isAscii(input: Uint8Array): boolean;
}

/** node:buffer where the runtime offers it without an import (Node ≥ 20.16), else undefined. */
function nodeBufferModule(): NodeBufferModule | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const mod = proc?.getBuiltinModule?.('node:buffer') as Partial<NodeBufferModule> | undefined;
  return mod && typeof mod.isUtf8 === 'function' && typeof mod.isAscii === 'function' && mod.Buffer ? (mod as NodeBufferModule) : undefined;
}

const NODE = nodeBufferModule();

export class Utf8InputError extends Error {
  override readonly name = 'Utf8InputError';
}

/** What one chunk decoded to; `ascii`: every character is ASCII (bytes = UTF-16 units). */
export interface Decoded {
  text: string;
  ascii: boolean;
}

/** Length of the sequence a lead byte starts (1 for ASCII, 0 for a continuation byte). */
function sequenceLength(b: number): number {
  if (b < 0x80) return 1;
  if (b < 0xc0) return 0;
  if (b < 0xe0) return 2;
  if (b < 0xf0) return 3;
  return 4;
}

/**
 * Where the complete sequences of `bytes` end: an incomplete sequence at the very end (at most
 * three bytes) waits for the next chunk. Malformed bytes are left for the validator to refuse.
 */
function completeLength(bytes: Uint8Array): number {
  const n = bytes.length;
  for (let back = 1; back <= 3 && back <= n; back++) {
    const need = sequenceLength(bytes[n - back]!);
    if (need === 0) continue; // a continuation byte: its lead is further back
    return need > back ? n - back : n;
  }
  return n;
}

export class Utf8StreamDecoder {
  /** An incomplete sequence from the end of the last chunk (Node path). */
  private pending: Uint8Array | undefined;
  private readonly fallback: InstanceType<typeof TextDecoder> | undefined;

  /** `useNodeBuffer: false` takes the TextDecoder path even in Node (what a browser runs). */
  constructor(options: { useNodeBuffer?: boolean } = {}) {
    this.fallback = NODE && options.useNodeBuffer !== false ? undefined : new TextDecoder('utf-8', { fatal: true });
  }

  /** Decodes the next chunk; throws Utf8InputError on bytes that are not UTF-8. */
  decode(chunk: Uint8Array): Decoded {
    if (this.fallback) {
      let text: string;
      try {
        text = this.fallback.decode(chunk, { stream: true });
      } catch {
        throw new Utf8InputError('Input is not valid UTF-8');
      }
      return { text, ascii: isAscii(text) };
    }
    const node = NODE!;
    const bytes = this.pending ? node.Buffer.concat([this.pending, chunk]) : chunk;
    const end = completeLength(bytes);
    // A copy: the transport may reuse the memory of its chunk.
    this.pending = end < bytes.length ? new Uint8Array(bytes.subarray(end)) : undefined;
    const whole = node.Buffer.from(bytes.buffer, bytes.byteOffset, end);
    // ASCII is its own UTF-8; as Latin-1 Node makes a big string external (outside the
    // collected heap), which a big synchronisation, held until it ends, is glad of.
    if (node.isAscii(whole)) return { text: whole.toString('latin1'), ascii: true };
    if (!node.isUtf8(whole)) throw new Utf8InputError('Input is not valid UTF-8');
    const text = whole.toString('utf8');
    return { text, ascii: text.length === end };
  }

  /** The end of input: throws Utf8InputError when it stops inside a sequence. */
  end(): string {
    if (this.fallback) {
      try {
        return this.fallback.decode();
      } catch {
        throw new Utf8InputError('Input ends inside a UTF-8 sequence');
      }
    }
    if (this.pending) {
      this.pending = undefined;
      throw new Utf8InputError('Input ends inside a UTF-8 sequence');
    }
    return '';
  }
}
