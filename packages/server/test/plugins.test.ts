// Plugins against real TextSessions with a fake connection, temp directories, short intervals.
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdoptedSession, StateVector, type Request, type RequestBody } from '@tandem/adopted';
import {
  type Element, type WireOperation, decodeRequest, decodeSyncRequest, decodeSyncSegment, decodeUser, parseXmlDocument,
} from '@tandem/protocol';
import { KeyFile } from '../src/config/keyfile.js';
import { SessionBridge } from '../src/plugins/bridge.js';
import { PluginHost } from '../src/plugins/host.js';
import { AutosavePlugin } from '../src/plugins/autosave.js';
import { DirectorySyncPlugin } from '../src/plugins/directory-sync.js';
import { LoggingPlugin, defaultLoggingOptions } from '../src/plugins/logging.js';
import { RecordPlugin, recordBaseName } from '../src/plugins/record.js';
import { PluginConfigError, buildPlugins, certificateAuthOptions } from '../src/plugins/registry.js';
import { TrafficLoggingPlugin, trafficFileName } from '../src/plugins/traffic-logging.js';
import { TransformationProtectionPlugin } from '../src/plugins/transformation-protection.js';
import type { LogLevel, Plugin, PluginContext, SessionInfo } from '../src/plugins/types.js';
import { type Member, TextSession } from '../src/session/text-session.js';
import type { StoredTextDocument } from '../src/storage/text-format.js';

const el = (xml: string): Element => parseXmlDocument(xml);

function member(remote = '[::1]:4000'): Member & { sent: Element[] } {
  const sent: Element[] = [];
  return { remote, sent, sendGroup: (_g: string, ...m: Element[]) => void sent.push(...m) };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface Rig {
  host: PluginHost;
  bridge: SessionBridge;
  logs: { level: LogLevel; line: string }[];
  saves: number[];
  open(doc: StoredTextDocument, path?: string, id?: number): TextSession;
}

async function rig(plugins: Plugin[]): Promise<Rig> {
  const logs: { level: LogLevel; line: string }[] = [];
  const saves: number[] = [];
  const ctx: PluginContext = { log: (level, line) => void logs.push({ level, line }), saveSession: async (id) => void saves.push(id) };
  const host = new PluginHost(ctx);
  const errors = await host.load(plugins);
  expect(errors).to.deep.equal([]);
  const bridge = new SessionBridge(host);
  return {
    host, bridge, logs, saves,
    open(doc, path = '/doc', id = 1) {
      const s = TextSession.fromStored(`InfSession_${id}`, doc, { seqId: () => 1, log: () => undefined, idle: () => undefined, hooks: bridge });
      bridge.added(s, id, path);
      return s;
    },
  };
}

const join_ = (s: TextSession, m: Member, name: string, time = ''): void => {
  if (!s.isSubscribed(m)) s.subscribe(m, false);
  s.handle(m, el(`<user-join name="${name}" status="active" time="${time}" caret="0" selection="0" hue="0.5" seq="0"/>`));
};
const req = (s: TextSession, m: Member, user: number, time: string, op: string, num?: number): void =>
  s.handle(m, el(`<request user="${user}" time="${time}"${num ? ` num="${num}"` : ''}>${op}</request>`));

// ---- an independent replayer of record files: sync, then users and requests in file order ----

function body(op: WireOperation): RequestBody {
  switch (op.kind) {
    case 'undo': case 'redo': return { type: op.kind };
    case 'insert': return { type: 'do', op: { kind: 'insert', pos: op.pos, text: op.text } };
    case 'move': return { type: 'do', op: { kind: 'move', caret: op.caret, selection: op.selection } };
    case 'no-op': return { type: 'do', op: { kind: 'no-op' } };
    case 'delete':
      if ('len' in op) return { type: 'do', op: { kind: 'delete', pos: op.pos, len: op.len } };
      return { type: 'do', op: { kind: 'delete', pos: op.pos, len: [...op.segments.map((x) => x.text).join('')].length, removed: op.segments } };
  }
}

function replay(file: string): string {
  const root = parseXmlDocument(readFileSync(file, 'utf8'));
  expect(root.name).to.equal('infinote-adopted-session-record');
  const kids = root.children.filter((c): c is Element => typeof c !== 'string');
  const initial = kids[0]!.children.filter((c): c is Element => typeof c !== 'string');
  expect(initial[0]!.name).to.equal('sync-begin');
  expect(Number(initial[0]!.attrs['num-messages'])).to.equal(initial.length - 2);
  const users = initial.filter((c) => c.name === 'sync-user').map(decodeUser);
  const requests: Request[] = initial.filter((c) => c.name === 'sync-request').map((c) => decodeSyncRequest(c))
    .map((r) => ({ ...body(r.operation), user: r.user, vector: r.time }));
  const segments = initial.filter((c) => c.name === 'sync-segment').map(decodeSyncSegment);
  const eng = AdoptedSession.fromSync({ users: users.map((u) => ({ id: u.id, name: u.name, status: u.status, vector: u.time ?? StateVector.zero })), requests, segments });
  for (const k of kids.slice(1)) {
    if (k.name === 'user') {
      const u = decodeUser(k);
      eng.addUser({ id: u.id, name: u.name, status: 'active', vector: u.time ?? StateVector.zero, caret: u.caret ?? 0, selection: u.selection ?? 0 });
    } else {
      expect(k.name).to.equal('request');
      expect(k.attrs.received).to.match(/^\d+(\.\d+)?$/);
      expect(k.attrs.executed).to.match(/^\d+(\.\d+)?$/);
      const r = decodeRequest(k);
      if (eng.user(r.user)!.status === 'unavailable') eng.updateUser(r.user, { status: 'active' });
      const res = eng.receive({ ...body(r.operation), user: r.user, time: r.time, ...(r.num ? { num: r.num } : {}) });
      expect(res.error, `request ${JSON.stringify(k.attrs)}`).to.equal(undefined);
      for (const x of res.executed) expect(x.error).to.equal(undefined);
    }
  }
  return eng.segments().map((x) => x.text).join('');
}

describe('plugins', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tandem-plugins-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('record', () => {
    it('names record files after the path with "/" replaced by "_" and numbers them from 00000', async () => {
      expect(recordBaseName('/dir1/inner')).to.equal('dir1_inner');
      const r = await rig([new RecordPlugin({ directory: dir })]);
      const a = r.open({ users: [], segments: [] }, '/dir1/inner', 3);
      r.bridge.removed(a);
      const b = r.open({ users: [], segments: [] }, '/dir1/inner', 3);
      r.bridge.removed(b);
      expect(existsSync(join(dir, 'dir1_inner.record-00000.xml'))).to.equal(true);
      expect(readFileSync(join(dir, 'dir1_inner.record-00001.xml'), 'utf8')).to.equal(
        '<?xml version="1.0" encoding="UTF-8"?>\n<infinote-adopted-session-record>\n <initial>\n  <sync-begin num-messages="0"/>\n  <sync-end/>\n </initial>\n\n</infinote-adopted-session-record>\n');
    });

    it('writes a record of concurrent edits, undo and control characters that replays to the session text', async () => {
      const r = await rig([new RecordPlugin({ directory: dir })]);
      const s = r.open({ users: [{ id: 1, name: 'alice', hue: 0.1 }], segments: [{ author: 1, text: 'base👍\n' }, { author: 0, text: 'e\u0301' }] });
      const a = member('[::1]:1');
      const b = member('[::1]:2');
      join_(s, a, 'alice'); // a rejoin: not a new user, not recorded
      req(s, a, 1, '', '<insert-caret pos="0">Hé👍<uchar codepoint="1"/>\r\t</insert-caret>');
      req(s, a, 1, '', '<delete-caret pos="2" len="2"/>');
      req(s, a, 1, '', '<move caret="1" selection="2"/>');
      join_(s, b, 'bob', '1:2');
      req(s, a, 1, '', '<insert-caret pos="0">A</insert-caret>');
      req(s, b, 2, '', '<insert-caret pos="1">B</insert-caret>'); // concurrent with "A"
      req(s, b, 2, '1:1', '<insert-caret pos="3">C</insert-caret>');
      req(s, a, 1, '2:1', '<delete-caret pos="0" len="3"/>');
      req(s, b, 2, '', '<undo-caret/>', 2);
      req(s, a, 1, '2:2', '<no-op/>');
      for (const m of [a, b]) expect(m.sent.filter((x) => x.name === 'request-failed' || x.name === 'invalid-request')).to.deep.equal([]);
      const text = s.text();
      r.bridge.removed(s);
      const file = join(dir, 'doc.record-00000.xml');
      const xml = readFileSync(file, 'utf8');
      expect(xml.match(/\n {3}<user /g)).to.have.length(1);
      expect(xml).to.contain('name="bob" status="active" time="1:2"');
      expect(xml).to.contain('<sync-segment author="1">base👍\n</sync-segment>');
      expect(xml.match(/<request /g)).to.have.length(10); // the num="2" undo is two requests
      expect(xml.endsWith('\n</infinote-adopted-session-record>\n')).to.equal(true);
      expect(replay(file)).to.equal(text);
    });
  });

  describe('autosave', () => {
    it('saves a session one interval after its first change and then runs the hook with root and path', async () => {
      const hook = join(dir, 'hook.sh');
      writeFileSync(hook, `#!/bin/sh\necho "$1|$2" > "${join(dir, 'hook.out')}"\n`);
      chmodSync(hook, 0o755);
      const r = await rig([new AutosavePlugin({ intervalMs: 30, rootDirectory: '/srv/root', hook })]);
      const s = r.open({ users: [], segments: [] }, '/a/b', 7);
      const m = member();
      join_(s, m, 'alice');
      req(s, m, 1, '', '<insert-caret pos="0">x</insert-caret>');
      req(s, m, 1, '', '<insert-caret pos="1">y</insert-caret>');
      expect(r.saves).to.deep.equal([]);
      await until(() => existsSync(join(dir, 'hook.out')), 'the hook');
      expect(r.saves).to.deep.equal([7]);
      expect(readFileSync(join(dir, 'hook.out'), 'utf8')).to.equal('/srv/root|/a/b\n');
    });

    it('does not save a session that is unloaded before its interval', async () => {
      const r = await rig([new AutosavePlugin({ intervalMs: 30, rootDirectory: '/' })]);
      const s = r.open({ users: [], segments: [] });
      const m = member();
      join_(s, m, 'alice');
      req(s, m, 1, '', '<insert-caret pos="0">x</insert-caret>');
      r.bridge.removed(s);
      await new Promise((res) => setTimeout(res, 80));
      expect(r.saves).to.deep.equal([]);
    });
  });

  describe('directory-sync', () => {
    it('mirrors the exact text on load and after changes, and removes it with its node', async () => {
      const mirror = join(dir, 'mirror');
      const plugin = new DirectorySyncPlugin({ directory: mirror, intervalMs: 20 });
      const r = await rig([plugin]);
      const s = r.open({ users: [], segments: [{ author: 0, text: 'x👍\r\n' }] }, '/sub/doc');
      const file = join(mirror, 'sub', 'doc');
      await until(() => existsSync(file), 'the first mirror');
      expect(readFileSync(file, 'utf8')).to.equal('x👍\r\n');
      const m = member();
      join_(s, m, 'alice');
      req(s, m, 1, '', '<insert-caret pos="0">e\u0301<uchar codepoint="27"/></insert-caret>');
      await until(() => readFileSync(file, 'utf8') !== 'x👍\r\n', 'the update');
      expect(readFileSync(file, 'utf8')).to.equal('e\u0301\u001bx👍\r\n');
      r.host.nodeRemoved('/sub', true);
      await plugin.stop();
      expect(existsSync(join(mirror, 'sub'))).to.equal(false);
      expect(plugin.fileName('/../escape')).to.equal(undefined);
    });
  });

  describe('transformation-protection', () => {
    it('unsubscribes a connection whose request is more than max-vdiff behind and logs why', async () => {
      const r = await rig([new TransformationProtectionPlugin(1)]);
      const s = r.open({ users: [], segments: [] });
      const a = member('[::1]:1');
      const b = member('[::1]:2');
      join_(s, a, 'alice');
      join_(s, b, 'bob');
      for (const c of 'xyz') req(s, a, 1, '', `<insert-caret pos="0">${c}</insert-caret>`);
      req(s, b, 2, '', '<insert-caret pos="0">B</insert-caret>');
      expect(b.sent.map((x) => x.name)).to.include('session-close');
      expect(s.isSubscribed(b)).to.equal(false);
      expect(s.text()).to.equal('zyx');
      req(s, a, 1, '', '<insert-caret pos="0">w</insert-caret>');
      expect(s.text()).to.equal('wzyx');
    });

    it('lets a request within the limit through', () => {
      const p = new TransformationProtectionPlugin(2);
      const session = { id: 1, path: '/d' } as SessionInfo;
      const e = { session, user: { id: 1, name: 'a' }, connection: { remote: 'r' }, vector: StateVector.parse('1:1'), current: StateVector.parse('1:3') };
      expect(p.checkRequest(e)).to.equal(undefined);
      expect(p.checkRequest({ ...e, vector: StateVector.zero })).to.match(/vdiff=3.*Maximum allowed is 2/);
    });
  });

  describe('logging and traffic-logging', () => {
    it('logs connections and session errors with the offending message', async () => {
      const r = await rig([new LoggingPlugin(defaultLoggingOptions)]);
      const c = { remote: '[::ffff:127.0.0.1]:33336' };
      r.host.connectionAdded(c);
      r.host.connectionRemoved(c);
      const s = r.open({ users: [], segments: [] });
      const m = member();
      join_(s, m, 'alice');
      s.handle(m, el('<request user="1" time="x"><insert-caret pos="0">x</insert-caret></request>'));
      expect(r.logs.map((l) => l.line)).to.deep.include.members([
        '[::ffff:127.0.0.1]:33336 (no client certificate) connected',
        '[::ffff:127.0.0.1]:33336 (no client certificate) disconnected',
      ]);
      const extra = r.logs.find((l) => l.line.startsWith('in document /doc from connection'));
      expect(extra?.line).to.contain('The request was: <request user="1" time="x">');
    });

    it('writes every connection\'s traffic into a file named after the peer', async () => {
      const r = await rig([new TrafficLoggingPlugin(join(dir, 'traffic'))]);
      const c = { remote: '[::ffff:127.0.0.1]:40460' };
      r.host.connectionAdded(c);
      r.host.traffic(c, 'received', '<group publisher="you" name="InfDirectory"><explore-node seq="0" id="0"/></group>');
      r.host.traffic(c, 'sent', '<group name="InfDirectory"><explore-end seq="1/0"/></group>');
      r.host.connectionRemoved(c);
      expect(trafficFileName(c.remote)).to.equal('_::ffff:127.0.0.1_:40460');
      const lines = readFileSync(join(dir, 'traffic', '_::ffff:127.0.0.1_:40460'), 'utf8').split('\n');
      const stamp = String.raw`\[\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} \.\d{6}\] `;
      expect(lines[0]).to.match(new RegExp(`^${stamp}!!! \\[::ffff:127.0.0.1\\]:40460 connected$`));
      expect(lines[1]).to.match(new RegExp(`^${stamp}<<< <group publisher="you"`));
      expect(lines[2]).to.match(new RegExp(`^${stamp}>>> <group name="InfDirectory"><explore-end`));
      expect(lines[3]).to.match(new RegExp(`^${stamp}!!! Log closed$`));
    });
  });

  describe('registry and host', () => {
    it('builds plugins from config groups and --plugin-parameter values, always with transformation-protection', () => {
      const kf = KeyFile.parse('[autosave]\ninterval=5\n[directory-sync]\ndirectory=/tmp/x\ninterval=2\n');
      const names = buildPlugins(['note-text', 'autosave', 'directory-sync', 'record'], kf, { rootDirectory: '/r' }).map((p) => p.name);
      expect(names).to.deep.equal(['autosave', 'directory-sync', 'record', 'transformation-protection']);
    });

    it('refuses missing required, non-positive and unknown parameters', () => {
      expect(() => buildPlugins(['autosave'], new KeyFile(), { rootDirectory: '/' })).to.throw(PluginConfigError, /needs the parameter "interval"/);
      expect(() => buildPlugins(['autosave'], KeyFile.parse('[autosave]\ninterval=0\n'), { rootDirectory: '/' })).to.throw(PluginConfigError, /positive/);
      expect(() => buildPlugins(['record'], KeyFile.parse('[record]\nfoo=1\n'), { rootDirectory: '/' })).to.throw(PluginConfigError, /no parameter "foo"/);
      expect(() => buildPlugins(['logging'], KeyFile.parse('[logging]\nlog-connections=maybe\n'), { rootDirectory: '/' })).to.throw(PluginConfigError);
    });

    it('reads certificate-auth options from its group (file paths, boolean, flag list) only when the plugin is listed', () => {
      const kf = KeyFile.parse('[certificate-auth]\nca-list=/pki/ca.pem\nca-key=/pki/ca-key.pem\naccept-unauthenticated-clients=true\nsuper-user=/pki/su.pem\nverification-flags=allow-x509-v1-ca-crt;disable-ca-sign;\n');
      expect(certificateAuthOptions(['note-text', 'certificate-auth'], kf)).to.deep.equal({
        caList: '/pki/ca.pem', caKey: '/pki/ca-key.pem', acceptUnauthenticatedClients: true, superUser: '/pki/su.pem',
        verificationFlags: ['allow-x509-v1-ca-crt', 'disable-ca-sign'],
      });
      expect(certificateAuthOptions(['note-text'], kf)).to.equal(undefined);
      expect(() => certificateAuthOptions(['certificate-auth'], new KeyFile())).to.throw(PluginConfigError, /needs the parameter "ca-list"/);
      expect(() => certificateAuthOptions(['certificate-auth'], KeyFile.parse('[certificate-auth]\nca-list=/x\naccept-unauthenticated-clients=perhaps\n'))).to.throw(PluginConfigError);
      expect(() => certificateAuthOptions(['certificate-auth'], KeyFile.parse('[certificate-auth]\nca-list=/x\nca-file=/y\n'))).to.throw(PluginConfigError, /no parameter "ca-file"/);
    });

    it('shows sessions loaded earlier to a plugin loaded later and survives a throwing plugin', async () => {
      const seen: string[] = [];
      const r = await rig([{ name: 'bad', sessionAdded: () => { throw new Error('boom'); } }]);
      r.open({ users: [], segments: [] }, '/early');
      await r.host.load([{ name: 'late', sessionAdded: (s) => void seen.push(`+${s.path}`), sessionRemoved: (s) => void seen.push(`-${s.path}`) }]);
      expect(seen).to.deep.equal(['+/early']);
      expect(r.logs.some((l) => l.line.includes('Plugin "bad" failed in sessionAdded'))).to.equal(true);
      await r.host.unload();
      expect(seen).to.deep.equal(['+/early', '-/early']);
    });
  });
});
