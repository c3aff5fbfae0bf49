// The `tandem` commands, each a function of a connected client and the parsed command that
// writes its result to the given output streams.
import { readFile } from 'node:fs/promises';
import type { TandemClient } from '../client.js';
import { ClientError } from '../errors.js';
import type { TextChange } from '../text-document.js';
import { codePointLength, codePointsToUnits, unitsToCodePoints } from '../text/units.js';
import type { Command, GlobalOptions } from './args.js';
import { progressBar, type ProgressStream } from './progress.js';
import { forSeconds, syncFile } from './sync.js';

/** Where results go: process.stdout, or anything that takes strings. */
export interface OutputStream {
  write(chunk: string): unknown;
}

export interface Io {
  stdout: OutputStream;
  /** Warnings and progress bars (drawn only if it is a terminal). */
  stderr: ProgressStream;
  stdin: NodeJS.ReadableStream;
  /** Resolves when the user interrupts (SIGINT/SIGTERM): long-running commands then end cleanly. */
  interrupted: Promise<void>;
  /** Called once watch, sync or chat (listening) is set up. */
  listening?: () => void;
  /** How long an upload runs before its progress bar appears (ms). */
  progressDelayMs?: number;
}

/** Whether a command runs until interrupted (watch, sync, chat without a message). */
export function listens(command: Command): boolean {
  return command.name === 'watch' || command.name === 'sync' || (command.name === 'chat' && command.message === undefined);
}

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
      try {
        await client.mkdir(command.path, { parents: command.parents });
      } catch (err) {
        if (command.parents || !(err instanceof ClientError) || err.code !== 'NOT_FOUND') throw err;
        throw new ClientError('NOT_FOUND', `cannot create ${command.path}: ${err.message} (mkdir -p creates missing parents)`);
      }
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
      const bar = progressBar(`put ${command.path}`, io.stderr, { delayMs: io.progressDelayMs });
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
      return syncFile(client, command.path, command.file, { user: options.user, forSeconds: command.forSeconds, io });
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
      io.listening?.();
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

/** One line per change: AUTHOR<TAB>insert<TAB>POS<TAB>"TEXT" or AUTHOR<TAB>delete<TAB>POS<TAB>LEN<TAB>"TEXT",
 * POS and LEN in characters, TEXT JSON-quoted. */
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
  io.listening?.();
  const closed = new Promise<Error | undefined>((resolve) => doc.on('closed', resolve));
  const end = await Promise.race([io.interrupted.then(() => undefined), closed, forSeconds(seconds)]);
  doc.close();
  if (end) throw end;
  return 0;
}
