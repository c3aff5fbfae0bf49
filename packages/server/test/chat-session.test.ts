// ChatSession with fake members: exact bytes of sync, joins and relays (capture 10, protocol.md 5.9).
import { expect } from 'chai';
import { type Element, parseXmlDocument, serialize } from '@tandem/protocol';
import { ChatSession } from '../src/chat/chat-session.js';
import type { Member } from '../src/session/text-session.js';

const el = (xml: string): Element => parseXmlDocument(xml);

function member(remote: string): Member & { out: string[] } {
  const out: string[] = [];
  return { remote, out, sendGroup: (g: string, ...m: Element[]) => void out.push(...m.map((x) => `${g}:${serialize(x)}`)) };
}

describe('ChatSession', () => {
  let clock = 1795302516;
  const logs: string[] = [];
  const chat = (size?: number) => new ChatSession('InfChat', { seqId: () => 1, log: (l) => void logs.push(l), now: () => clock }, size);

  it('synchronises users and the backlog exactly as infinoted does (capture 10)', () => {
    const s = chat();
    const bob = member('bob');
    s.subscribe(bob, false);
    s.handle(bob, el('<user-join seq="0" name="bob" status="active"/>'));
    expect(bob.out).to.deep.equal(['InfChat:<user-join id="1" name="bob" status="active" seq="1/0"/>']);
    s.handle(bob, el('<message user="1">hi there</message>'));
    s.handle(bob, el('<message type="emote" user="1">waves</message>'));
    clock += 9;
    s.removeMember(bob);
    const carol = member('carol');
    s.subscribe(carol, true);
    expect(carol.out).to.deep.equal([
      'InfChat:<sync-begin num-messages="5"/>',
      'InfChat:<sync-user id="1" name="bob" status="unavailable"/>',
      'InfChat:<message type="userjoin" time="1795302516" user="1"/>',
      'InfChat:<message time="1795302516" user="1">hi there</message>',
      'InfChat:<message type="emote" time="1795302516" user="1">waves</message>',
      'InfChat:<message type="userpart" time="1795302525" user="1"/>',
      'InfChat:<sync-end/>',
    ]);
  });

  it('relays messages verbatim to the other members only, and ignores what carol may not send', () => {
    const s = chat();
    const a = member('a');
    const b = member('b');
    s.subscribe(a, false);
    s.subscribe(b, false);
    s.handle(a, el('<user-join seq="0" name="alice" status="active"/>'));
    s.handle(b, el('<user-join seq="3" name="bob" status="active"/>'));
    a.out.length = 0;
    b.out.length = 0;
    s.handle(a, el('<message user="1">hello &amp; &lt;bye&gt; 😀</message>'));
    expect(a.out).to.deep.equal([]);
    expect(b.out).to.deep.equal(['InfChat:<message user="1">hello &amp; &lt;bye&gt; 😀</message>']);
    b.out.length = 0;
    // Another connection's user, a live userjoin, an unknown user, a bad type: dropped, not answered.
    s.handle(b, el('<message user="1">impostor</message>'));
    s.handle(b, el('<message type="userjoin" user="2"/>'));
    s.handle(b, el('<message user="9">ghost</message>'));
    s.handle(b, el('<message type="shout" user="2">x</message>'));
    expect(a.out).to.deep.equal([]);
    expect(b.out).to.deep.equal([]);
    expect(s.messages().map((m) => m.text)).to.deep.equal(['', '', 'hello & <bye> 😀']);
  });

  it('refuses a name in use, rejoins an unavailable user under its id, and tells others when a member leaves', () => {
    const s = chat();
    const a = member('a');
    const b = member('b');
    s.subscribe(a, false);
    s.subscribe(b, false);
    s.handle(a, el('<user-join seq="0" name="alice" status="active"/>'));
    s.handle(b, el('<user-join seq="1" name="alice" status="active"/>'));
    expect(b.out.at(-1)).to.equal('InfChat:<request-failed code="0" domain="INF_USER_ERROR" seq="1/1">Name "alice" already in use</request-failed>');
    s.removeMember(a);
    expect(b.out.at(-1)).to.equal('InfChat:<user-status-change id="1" status="unavailable"/>');
    s.handle(b, el('<user-join seq="2" name="alice" status="active"/>'));
    expect(b.out.at(-1)).to.equal('InfChat:<user-rejoin id="1" name="alice" status="active" seq="1/2"/>');
  });

  it('keeps only the newest messages of its backlog', () => {
    const s = chat(4);
    const a = member('a');
    s.subscribe(a, false);
    s.handle(a, el('<user-join seq="0" name="alice" status="active"/>'));
    for (let i = 0; i < 6; i++) s.handle(a, el(`<message user="1">m${i}</message>`));
    expect(s.messages().map((m) => m.text)).to.deep.equal(['m2', 'm3', 'm4', 'm5']);
  });

  it('swallows everything a subscriber sends before its sync-ack', () => {
    const s = chat();
    const a = member('a');
    const b = member('b');
    s.subscribe(a, false);
    s.subscribe(b, true);
    s.handle(b, el('<user-join seq="0" name="early" status="active"/>'));
    expect(a.out).to.deep.equal([]);
    s.handle(b, el('<sync-ack/>'));
    s.handle(b, el('<user-join seq="1" name="bob" status="active"/>'));
    expect(a.out).to.deep.equal(['InfChat:<user-join id="1" name="bob" status="active" seq="1/1"/>']);
  });
});
