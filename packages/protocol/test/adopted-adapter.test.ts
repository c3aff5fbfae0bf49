import { expect } from 'chai';
import { AdoptedSession, StateVector } from '@tandem/adopted';
import {
  decodeRequest, decodeSyncRequest, decodeUser, incomingFromWire, parseXmlDocument, requestBodyFromWire,
  requestFromWireSync, userInitFromWire, wireOperationOf, wireSyncOf,
} from '../src/index.js';

const el = (s: string) => parseXmlDocument(s);

describe('wire <-> engine request adapter', () => {
  it('gives a synchronised delete the code point length of its removed segments (emoji, combining mark)', () => {
    const w = decodeSyncRequest(el('<sync-request user="2" time="1:3"><delete-caret pos="1"><segment author="1">a😀</segment><segment author="2">e\u0301</segment></delete-caret></sync-request>'));
    const r = requestFromWireSync(w);
    expect(r.vector.toString()).to.equal('1:3');
    expect(r).to.deep.include({ type: 'do', user: 2 });
    expect(r.type === 'do' && r.op).to.deep.equal({ kind: 'delete', pos: 1, len: 4, removed: [{ author: 1, text: 'a😀' }, { author: 2, text: 'e\u0301' }] });
  });

  it('maps legacy and -caret operation names, undo/redo, move and no-op to request bodies', () => {
    const body = (xml: string) => requestBodyFromWire(decodeRequest(el(xml)).operation);
    expect(body('<request user="1" time=""><insert pos="2">x</insert></request>')).to.deep.equal({ type: 'do', op: { kind: 'insert', pos: 2, text: 'x' } });
    expect(body('<request user="1" time=""><delete pos="2" len="3"/></request>')).to.deep.equal({ type: 'do', op: { kind: 'delete', pos: 2, len: 3 } });
    expect(body('<request user="1" time=""><undo/></request>')).to.deep.equal({ type: 'undo' });
    expect(body('<request user="1" time=""><redo-caret/></request>')).to.deep.equal({ type: 'redo' });
    expect(body('<request user="1" time=""><move caret="4" selection="-2"/></request>')).to.deep.equal({ type: 'do', op: { kind: 'move', caret: 4, selection: -2 } });
    expect(body('<request user="1" time=""><no-op/></request>')).to.deep.equal({ type: 'do', op: { kind: 'no-op' } });
  });

  it('keeps num and either keeps the time diff as text or parses it (zero components dropped)', () => {
    const w = decodeRequest(el('<request user="3" time="1:2;4:0" num="3"><undo-caret/></request>'));
    expect(incomingFromWire(w)).to.deep.equal({ type: 'undo', user: 3, time: '1:2;4:0', num: 3 });
    const parsed = incomingFromWire(w, true);
    expect(parsed.time).to.be.instanceOf(StateVector);
    expect(String(parsed.time)).to.equal('1:2');
  });

  it('turns a sync-user into an engine user and drives a session that replays a request', () => {
    const u = userInitFromWire(decodeUser(el('<sync-user id="1" name="alice" status="active" time="1:1" caret="1" selection="0" hue="0.5"/>')));
    expect(u).to.deep.equal({ id: 1, name: 'alice', status: 'active', vector: StateVector.parse('1:1'), caret: 1, selection: 0 });
    const sync = requestFromWireSync(decodeSyncRequest(el('<sync-request user="1" time=""><insert-caret pos="0">é</insert-caret></sync-request>')));
    const s = AdoptedSession.fromSync({ users: [u], requests: [sync], segments: [{ author: 1, text: 'é' }] });
    const r = s.receive(incomingFromWire(decodeRequest(el('<request user="1" time=""><insert-caret pos="1">!</insert-caret></request>'))));
    expect(r.error).to.equal(undefined);
    expect(s.text).to.equal('é!');
  });

  it('encodes engine requests back: deletes by length live, with segments in sync', () => {
    const del = { type: 'do' as const, user: 1, vector: StateVector.parse('1:2'), op: { kind: 'delete' as const, pos: 0, len: 2, removed: [{ author: 1, text: 'ab' }] } };
    expect(wireOperationOf(del, false)).to.deep.equal({ kind: 'delete', pos: 0, len: 2 });
    expect(wireSyncOf(del)).to.deep.equal({ user: 1, time: del.vector, operation: { kind: 'delete', pos: 0, segments: [{ author: 1, text: 'ab' }] } });
    expect(wireOperationOf({ type: 'undo', user: 1, vector: StateVector.zero }, true)).to.deep.equal({ kind: 'undo' });
  });
});
