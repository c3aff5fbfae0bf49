import { expect } from 'chai';
import { decodeDirectoryReply, encodeDirectoryReply, parseXmlDocument, serialize } from '../src/index.js';

describe('directory reply codec', () => {
  it('writes the subscribe child of a subscribing sync-in reply with method and group, as infd-directory does', () => {
    const bytes = '<sync-in id="3" parent="0" name="doc2" type="InfText" group="InfSession_3" method="central" seq="1/5"><subscribe method="central" group="InfSession_3"/></sync-in>';
    const msg = decodeDirectoryReply(parseXmlDocument(bytes));
    expect(msg).to.deep.include({ kind: 'sync-in', subscribe: true, group: 'InfSession_3' });
    expect(serialize(encodeDirectoryReply(msg))).to.equal(bytes);
  });

  it('writes a sync-in reply without subscribe as a childless element', () => {
    const bytes = '<sync-in id="3" parent="0" name="doc2" type="InfText" group="InfSession_SyncIn_3" method="central" seq="1/5"/>';
    expect(serialize(encodeDirectoryReply(decodeDirectoryReply(parseXmlDocument(bytes))))).to.equal(bytes);
  });
});
