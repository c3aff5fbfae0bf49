/**
 * Crash-safe file replacement: write a temporary file beside the target, fsync it, rename it over
 * the target and fsync the directory. A reader (tandemd or infinoted) sees the old or the new
 * document, never a torn one. The temporary name starts with '.' and does not end in ".Inf*", so
 * a left-over after a crash is ignored when the directory is explored (§7.1 listing rule); it is
 * short whatever the target's name, so that any name infinoted can store can be stored here.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = join(dirname(path), `.tandem-${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDirectory(dirname(path));
}

/** Makes a rename or unlink in `dir` durable; not every platform can open a directory. */
export async function syncDirectory(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // EISDIR/EPERM on some systems: the rename itself is still atomic.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
