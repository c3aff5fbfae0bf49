// Round trips of the messages no capture in shared/captures holds: change-acl-account, sync-error
// and sync-cancel. The bytes were recorded on loopback from the real infinoted 0.7.2 and the real
// libinfinity 0.7.2 client (its side through a recording relay); the interop suite
// test/interop/protocol-rare-live.test.ts makes them send these again and checks that they still
// send exactly these (keep the two lists equal):
// * change-acl-account: a client logged in with a certificate (certificate-auth) whose account
//   changes when infinoted reloads (SIGHUP) a configuration with another root directory, i.e.
//   another accounts.xml (infd_directory_set_account_storage -> infd_directory_relogin_clients ->
//   infd_directory_change_acl_account). The new account's own sheets come as <acl node-id>
//   children; a client demoted to the default account gets a bare id="default". The set-acl that
//   precedes the demotion announces the removed sheet as an empty <sheet/>.
// * sync-error: a sync-in whose segment names an unknown author, and one that ends early.
// * sync-cancel: infinoted removes a document while it still synchronises it to a subscriber
//   that does not read (inf_session_cancel_synchronization, sync still in progress).
// * From the client (publisher="you"): sync-error RECEIVER_CANCELLED when it closes a session
//   it is being synchronised (inf_session_close_handler), sync-cancel when it closes a session
//   it is uploading by sync-in.
import { expect } from 'chai';
import {
  type DirectoryReply, Element, InfError, decodeDirectoryReply, decodeGroup, encodeDirectoryReply, encodeGroup,
  encodeSignal, fromSyncError, parseXmlDocument, serialize, toSyncError,
} from '../src/index.js';

const DEFAULT_SHEET =
  '<sheet id="default" can-add-subdirectory="yes" can-add-document="yes" can-sync-in="yes" can-remove-node="yes" can-explore-node="yes" can-subscribe-chat="yes" can-subscribe-session="yes" can-join-user="yes" can-query-account-list="no" can-create-account="no" can-override-account="no" can-remove-account="no" can-query-acl="no" can-set-acl="no"/>';

/** [what, bytes of one <group> as infinoted 0.7.2 sent it, the decoded message] */
const DIRECTORY: readonly (readonly [string, string, DirectoryReply])[] = [
  [
    'change-acl-account to an account with its own sheet on the root',
    '<group name="InfDirectory"><change-acl-account id="fs:user:alicia" name="alicia"><acl node-id="0" can-remove-node="no" can-query-acl="yes"/></change-acl-account></group>',
    { kind: 'change-acl-account', account: { id: 'fs:user:alicia', name: 'alicia' }, nodes: [{ nodeId: 0, perms: { 'can-remove-node': false, 'can-query-acl': true } }] },
  ],
  [
    'change-acl-account to an account without sheets',
    '<group name="InfDirectory"><change-acl-account id="fs:user:alicia" name="alicia"/></group>',
    { kind: 'change-acl-account', account: { id: 'fs:user:alicia', name: 'alicia' }, nodes: [] },
  ],
  [
    'change-acl-account back to the default account',
    '<group name="InfDirectory"><change-acl-account id="default"/></group>',
    { kind: 'change-acl-account', account: { id: 'default' }, nodes: [] },
  ],
  [
    'set-acl notification (no seq) removing a sheet with an empty <sheet/>',
    `<group name="InfDirectory"><set-acl id="0"><acl>${DEFAULT_SHEET}<sheet id="fs:user:alicia"/></acl></set-acl></group>`,
    {
      kind: 'set-acl', id: 0, acl: [
        { account: 'default', perms: Object.fromEntries([
          'can-add-subdirectory', 'can-add-document', 'can-sync-in', 'can-remove-node', 'can-explore-node', 'can-subscribe-chat',
          'can-subscribe-session', 'can-join-user', 'can-query-account-list', 'can-create-account', 'can-override-account',
          'can-remove-account', 'can-query-acl', 'can-set-acl',
        ].map((s, i) => [s, i < 8])) },
        { account: 'fs:user:alicia', perms: {} },
      ],
    },
  ],
];

/** [what, bytes, the error] */
const SYNC_ERRORS: readonly (readonly [string, string, { domain: string; code: number; message: string }])[] = [
  [
    'a sync-in segment by an author that is no synced user',
    '<group name="InfSession_SyncIn_1"><sync-error code="2" domain="INF_USER_ERROR">No such user with ID \'8\'</sync-error></group>',
    { domain: 'INF_USER_ERROR', code: 2, message: "No such user with ID '8'" },
  ],
  [
    'a sync-in that ends before the announced number of messages',
    '<group name="InfSession_SyncIn_2"><sync-error code="11" domain="INF_SESSION_SYNC_ERROR">Got end-of-sync message, but synchronization is still in progress</sync-error></group>',
    { domain: 'INF_SESSION_SYNC_ERROR', code: 11, message: 'Got end-of-sync message, but synchronization is still in progress' },
  ],
  [
    'the libinfinity client closing a session during its synchronisation',
    '<group publisher="you" name="InfSession_1"><sync-error code="8" domain="INF_SESSION_SYNC_ERROR">The receiver cancelled the synchronization</sync-error></group>',
    { domain: 'INF_SESSION_SYNC_ERROR', code: 8, message: 'The receiver cancelled the synchronization' },
  ],
];

/** [who, bytes] */
const SYNC_CANCELS: readonly (readonly [string, string])[] = [
  ['infinoted, removing a document it synchronises', '<group name="InfSession_1"><sync-cancel/></group>'],
  ['the libinfinity client, closing a session it uploads', '<group publisher="you" name="InfSession_SyncIn_1"><sync-cancel/></group>'],
];

/** Parses one recorded group and returns its envelope and only message. */
function single(bytes: string): { name: string; publisher?: string; message: Element } {
  const g = decodeGroup(parseXmlDocument(bytes));
  expect(g.messages, bytes).to.have.length(1);
  return { name: g.name, ...(g.publisher !== undefined ? { publisher: g.publisher } : {}), message: g.messages[0]! };
}

describe('rare messages recorded from infinoted 0.7.2 (change-acl-account, sync-error, sync-cancel)', () => {
  for (const [what, bytes, decoded] of DIRECTORY) {
    it(`decodes and re-encodes byte for byte: ${what}`, () => {
      const g = single(bytes);
      const msg = decodeDirectoryReply(g.message);
      expect(msg).to.deep.equal(decoded);
      expect(serialize(encodeGroup(g.name, encodeDirectoryReply(msg)))).to.equal(bytes);
      // And from the value alone, as the server writes it.
      expect(serialize(encodeGroup('InfDirectory', encodeDirectoryReply(decoded)))).to.equal(bytes);
    });
  }

  for (const [what, bytes, error] of SYNC_ERRORS) {
    it(`decodes and re-encodes byte for byte: sync-error for ${what}`, () => {
      const g = single(bytes);
      expect(g.message.name).to.equal('sync-error');
      const e = fromSyncError(g.message);
      expect(e).to.be.instanceOf(InfError);
      expect({ domain: e.domain, code: e.code, message: e.message }).to.deep.equal(error);
      expect(serialize(encodeGroup(g.name, toSyncError(e), g.publisher))).to.equal(bytes);
      expect(serialize(encodeGroup(g.name, toSyncError(new InfError(error.domain, error.code, error.message)), g.publisher))).to.equal(bytes);
    });
  }

  it('escapes a sync-error message as libxml2 does, and reads it back', () => {
    const e = new InfError('INF_USER_ERROR', 0, 'Name "a<b>&c" already in use');
    const bytes = serialize(toSyncError(e));
    expect(bytes).to.equal('<sync-error code="0" domain="INF_USER_ERROR">Name "a&lt;b&gt;&amp;c" already in use</sync-error>');
    expect(fromSyncError(parseXmlDocument(bytes)).message).to.equal(e.message);
  });

  it('refuses a sync-error without a domain or with a code that is not a number', () => {
    expect(() => fromSyncError(parseXmlDocument('<sync-error code="2">x</sync-error>'))).to.throw(InfError, "does not contain required attribute 'domain'");
    expect(() => fromSyncError(parseXmlDocument('<sync-error code="two" domain="INF_USER_ERROR">x</sync-error>'))).to.throw(InfError, 'does not contain a valid number');
  });

  for (const [who, bytes] of SYNC_CANCELS) {
    it(`decodes and re-encodes sync-cancel byte for byte (an empty element, no attributes): ${who}`, () => {
      const g = single(bytes);
      expect(g.message.name).to.equal('sync-cancel');
      expect(g.message.attrs).to.deep.equal({});
      expect(g.message.children).to.deep.equal([]);
      expect(serialize(encodeGroup(g.name, encodeSignal('sync-cancel'), g.publisher))).to.equal(bytes);
    });
  }
});
