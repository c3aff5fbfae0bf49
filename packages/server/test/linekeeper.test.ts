// The linekeeper plugin and server-side users on the wire, over in-memory connections.
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LinekeeperPlugin, trailingLines } from '../src/plugins/linekeeper.js';
import { type TandemServer, createServer } from '../src/server.js';
import { FilesystemStorage } from '../src/storage/filesystem.js';
import { type PairClient, dir, login, pair } from './wire.js';

type Client = PairClient;

const doc = (body: string) => `<group publisher="you" name="InfSession_1">${body}</group>`;

describe('linekeeper', function () {
  this.timeout(20000);
  it('counts trailing line breaks: "\\n" and U+2028, not "\\r" or other whitespace', () => {
    expect(trailingLines('')).to.equal(0);
    expect(trailingLines('a\n\n')).to.equal(2);
    expect(trailingLines('a\n\u2028\n')).to.equal(3);
    expect(trailingLines('a\n \n')).to.equal(1);
    expect(trailingLines('a\r\n')).to.equal(1);
    expect(trailingLines('\n\n\n')).to.equal(3);
  });

  describe('on the wire', () => {
    let root: string;
    let server: TandemServer;
    beforeEach(async () => {
      root = await mkdtemp(join(tmpdir(), 'tandem-linekeeper-'));
      server = await createServer({ storage: new FilesystemStorage(root), securityPolicy: 'no-tls', hostName: 'vm', plugins: [new LinekeeperPlugin(1)] });
    });
    afterEach(async () => {
      await server.close();
      await rm(root, { recursive: true, force: true });
    });

    it('joins a LineKeeper user when a client user joins, appends the line break as a request to everyone, and leaves with the last client user', async () => {
      const a = pair(server);
      await login(a);
      a.send(dir('<add-node seq="0" parent="0" type="InfText" name="doc"><subscribe/></add-node>'));
      await a.next('</add-node></group>');
      a.send(dir('<subscribe-ack id="1"/>'));
      a.send(doc('<user-join seq="1" name="alice" status="active" time="" caret="0" hue="0.25"/>'));
      expect(await a.next('</group>')).to.equal('<group name="InfSession_1"><user-join id="1" name="alice" status="active" time="" caret="0" selection="0" hue="0.25" seq="1/1"/></group>');
      // Announced like infinoted's local users: no seq, hue 0, caret at the end.
      expect(await a.next('</group>')).to.equal('<group name="InfSession_1"><user-join id="2" name="LineKeeper" status="active" time="" caret="0" selection="0" hue="0"/></group>');
      expect(await a.next('</group>')).to.equal('<group name="InfSession_1"><request user="2" time=""><insert-caret pos="0">\n</insert-caret></request></group>');
      expect(server.sessionText(1)).to.equal('\n');

      // alice types two line breaks: the surplus one is erased (its time is diffed against 2:1).
      a.send(doc('<request user="1" time="2:1"><insert pos="1">x\n\n</insert></request>'));
      expect(await a.next('</group>')).to.equal('<group name="InfSession_1"><request user="2" time="1:1"><delete-caret pos="3" len="1"/></request></group>');
      expect(server.sessionText(1)).to.equal('\nx\n');

      // A later subscriber learns LineKeeper's last-sent vector, against which its next time is diffed.
      const b = pair(server);
      await login(b);
      b.send(dir('<explore-node seq="0" id="0"/>'));
      await b.next('<explore-end seq="2/0"/></group>');
      b.send(dir('<subscribe-session seq="1" id="1"/>'));
      await b.next('</group>');
      b.send(dir('<subscribe-ack id="1"/>'));
      const sync = await b.next('<sync-end/></group>');
      expect(sync).to.contain('<sync-user id="2" name="LineKeeper" status="active" time="1:1;2:2"');
      b.send(doc('<sync-ack/>'));

      a.send(doc('<user-status-change id="1" status="unavailable"/>'));
      expect(await b.next('</group>')).to.equal('<group name="InfSession_1"><user-status-change id="1" status="unavailable"/></group>');
      expect(await b.next('</group>')).to.equal('<group name="InfSession_1"><user-status-change id="2" status="unavailable"/></group>');
    });
  });
});
