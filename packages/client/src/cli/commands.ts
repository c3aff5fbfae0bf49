// The `tandem` commands, each a function of a connected client and the parsed command that
// writes its result to the given output streams.
import { readFile, writeFile, rename, stat } from 'node:fs/promises';
import { watch as watchFs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { TandemClient } from '../client.js';
import type { DirectoryNode } from '../directory.js';
import { ClientError } from '../errors.js';
import type { TextChange, TextDocument } from '../text-document.js';
import { codePointLength, codePointsToUnits, unitsToCodePoints } from '../text/units.js';
import type { Command, GlobalOptions } from './args.js';
import { progressBar } from './progress.js';

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadableStream;
  /** Resolves when the user interrupts (SIGINT/SIGTERM): long-running commands then end cleanly. */
  interrupted: Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

async function readInput(file: string, io: Io): Promise<string> {
  if (file !== '-') return readFile(file, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

async function listTree(client: TandemClient, path: string, recursive: boolean, out: string[]): Promise<void> {
  const children = await client.browse(path);
  // Directories first, then documents, each by name: stable output for scripts.
  children.sort((a, b) => Number(b.isDirectory) - Number(a.isDirectory) || a.name.localeCompare(b.name));
  for (const child of children) {
    out.push(child.path);
    if (recursive && child.isDirectory) await listTree(client, child.path, true, out);
  }
}

/** Runs one command; returns the exit status. */
export async function runCommand(client: TandemClient, command: Command, options: GlobalOptions, io: Io): Promise<number> {
  const write = (s: string): void => {
    io.stdout.write(s);
  };
  switch (command.name) {
    case 'ls': {
      const node = await client.lookup(command.path);
      if (!node.isDirectory) {
        write(node.path + '\n');
        return 0;
      }
      const lines: string[] = [];
      await listTree(client, node.path, command.recursive, lines);
      write(lines.map((l) => l + '\n').join(''));
      return 0;
    }
    case 'mkdir':
      await client.mkdir(command.path, { parents: command.parents });
      return 0;
    case 'create':
      await client.create(command.path);
      return 0;
    case 'rm':
      await client.remove(command.path);
      return 0;
    case 'cat': {
      const doc = await client.open(command.path);
      write(doc.text);
      doc.close();
      return 0;
    }
    case 'put': {
      const text = await readInput(command.file, io);
      const doc = await client.open(command.path, { create: true, user: options.user, retryName: true });
      const bar = progressBar(`put ${command.path}`, io.stderr);
      try {
        await doc.setText(text, (done, total) => bar.update(done, total));
      } finally {
        bar.done();
      }
      doc.close();
      return 0;
    }
    case 'insert': {
      const doc = await client.open(command.path, { user: options.user, retryName: true });
      const length = doc.characters;
      const pos = command.pos === -1 ? length : command.pos;
      if (pos > length) throw new ClientError('REQUEST_FAILED', `position ${pos} is beyond the end of ${doc.path} (${length} characters)`);
      await doc.insert(codePointsToUnits(doc.text, pos), command.text);
      doc.close();
      return 0;
    }
    case 'delete': {
      const doc = await client.open(command.path, { user: options.user, retryName: true });
      const length = doc.characters;
      if (command.pos + command.len > length) {
        throw new ClientError('REQUEST_FAILED', `cannot delete ${command.len} characters at ${command.pos}: ${doc.path} has ${length}`);
      }
      const start = codePointsToUnits(doc.text, command.pos);
      await doc.delete(start, codePointsToUnits(doc.text, command.pos + command.len) - start);
      doc.close();
      return 0;
    }
    case 'undo': {
      // Rejoining under the same name reuses the user id, and with it its undo history (§5.2).
      const doc = await client.open(command.path);
      const known = doc.users.find((u) => u.name === options.user);
      if (!known) throw new ClientError('REQUEST_FAILED', `"${options.user}" has never edited ${doc.path}`);
      if (known.status !== 'unavailable') {
        throw new ClientError('REQUEST_FAILED', `"${options.user}" is connected to ${doc.path} right now; undo from that client`);
      }
      await doc.join(options.user);
      await doc.undo();
      doc.close();
      return 0;
    }
    case 'users': {
      const doc = await client.open(command.path);
      const users = doc.users.sort((a, b) => a.id - b.id);
      write(users.map((u) => `${u.id}\t${u.name}\t${u.status}\n`).join(''));
      doc.close();
      return 0;
    }
    case 'watch':
      return watchDocument(client, command.path, command.forSeconds, io);
    case 'sync':
      return syncFile(client, command.path, command.file, command.forSeconds, options, io);
    case 'chat': {
      const chat = await client.chat(options.user);
      if (command.message !== undefined) {
        chat.send(command.message);
        await client.flush();
        chat.leave();
        return 0;
      }
      const show = (m: { type: string; user: string; text: string }): void => {
        if (m.type === 'emote') write(`* ${m.user} ${m.text}\n`);
        else if (m.type === 'userjoin') write(`-- ${m.user} joined\n`);
        else if (m.type === 'userpart') write(`-- ${m.user} left\n`);
        else write(`${m.user}: ${m.text}\n`);
      };
      for (const m of chat.backlog) show(m);
      chat.on('message', (m) => {
        if (!m.backlog) show(m);
      });
      const closed = new Promise<Error | undefined>((resolve) => chat.on('closed', resolve));
      const end = await Promise.race([io.interrupted.then(() => undefined), closed, forSeconds(command.forSeconds)]);
      chat.leave();
      if (end) throw end;
      return 0;
    }
    case 'help':
    case 'version':
      return 0;
  }
}

function forSeconds(seconds: number | undefined): Promise<undefined> {
  return seconds === undefined ? new Promise(() => undefined) : sleep(seconds * 1000).then(() => undefined);
}

/** One line per change: AUTHOR<TAB>insert<TAB>POS<TAB>"TEXT" or AUTHOR<TAB>delete<TAB>POS<TAB>LEN, POS in characters. */
export function formatChange(change: TextChange, textBefore: string): string {
  const pos = unitsToCodePoints(textBefore, change.index);
  if (change.kind === 'insert') return `${change.author.name}\tinsert\t${pos}\t${JSON.stringify(change.text)}`;
  return `${change.author.name}\tdelete\t${pos}\t${codePointLength(change.text)}\t${JSON.stringify(change.text)}`;
}

async function watchDocument(client: TandemClient, path: string, seconds: number | undefined, io: Io): Promise<number> {
  const doc = await client.open(path);
  let before = doc.text;
  doc.on('change', (change) => {
    io.stdout.write(formatChange(change, before) + '\n');
    before = doc.text;
  });
  doc.on('user-joined', (u) => io.stdout.write(`${u.name}\tjoined\n`));
  doc.on('user-left', (u) => io.stdout.write(`${u.name}\tleft\n`));
  const closed = new Promise<Error | undefined>((resolve) => doc.on('closed', resolve));
  const end = await Promise.race([io.interrupted.then(() => undefined), closed, forSeconds(seconds)]);
  doc.close();
  if (end) throw end;
  return 0;
}

/** Atomic write (temp file + rename) so an editor never reads half a file. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.tandem-${process.pid}`);
  await writeFile(tmp, text, 'utf8');
  await rename(tmp, file);
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Two-way sync: the file, if it exists and is not empty, first replaces the document (as put);
 * otherwise the document is written to the file. Then local saves go in as minimal diffs and
 * remote edits are written to the file.
 */
async function syncFile(
  client: TandemClient, path: string, file: string, seconds: number | undefined, options: GlobalOptions, io: Io,
): Promise<number> {
  const doc: TextDocument = await client.open(path, { create: true, user: options.user, retryName: true });
  let known: string; // what the file and the document last agreed on
  const initial = (await exists(file)) ? await readFile(file, 'utf8') : '';
  if (initial.length > 0) {
    const bar = progressBar(`sync ${path}`, io.stderr);
    await doc.setText(initial, (d, t) => bar.update(d, t)).finally(() => bar.done());
    known = initial;
  } else {
    await writeAtomically(file, doc.text);
    known = doc.text;
  }

  let busy = Promise.resolve();
  const serial = (job: () => Promise<void>): void => {
    busy = busy.then(job).catch((err: Error) => {
      io.stderr.write(`tandem: sync: ${err.message}\n`);
    });
  };

  let writeTimer: NodeJS.Timeout | undefined;
  doc.on('change', (change) => {
    if (change.local) return;
    clearTimeout(writeTimer);
    writeTimer = setTimeout(() => serial(async () => {
      if (doc.text === known) return;
      known = doc.text;
      await writeAtomically(file, known);
    }), 50);
  });

  let readTimer: NodeJS.Timeout | undefined;
  // Watch the directory: editors often save by replacing the file, which ends a watch on it.
  const watcher = watchFs(dirname(file) || '.', (_event, name) => {
    if (name !== null && name !== basename(file)) return;
    clearTimeout(readTimer);
    readTimer = setTimeout(() => serial(async () => {
      if (!(await exists(file))) return;
      const text = await readFile(file, 'utf8');
      if (text === known) return;
      known = text;
      await doc.setText(text);
    }), 100);
  });

  const closed = new Promise<Error | undefined>((resolve) => doc.on('closed', resolve));
  const end = await Promise.race([io.interrupted.then(() => undefined), closed, forSeconds(seconds)]);
  watcher.close();
  clearTimeout(readTimer);
  clearTimeout(writeTimer);
  await busy;
  if (doc.text !== known) await writeAtomically(file, doc.text);
  doc.close();
  if (end) throw end;
  return 0;
}
