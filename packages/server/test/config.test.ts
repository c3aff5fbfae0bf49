import { expect } from 'chai';
import { KeyFile } from '../src/config/keyfile.js';
import { type Environment, UsageError, configSearchPath, helpText, parseCommandLine, resolveOptions } from '../src/config/options.js';

function env(files: Record<string, string>, vars: Record<string, string> = {}): Environment {
  return {
    env: vars,
    home: '/home/u',
    readFile: (p) => {
      if (p in files) return files[p]!;
      throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
    },
  };
}

describe('GLib key file', () => {
  it('reads groups, keys, escapes and ;-separated lists', () => {
    const kf = KeyFile.parse('# comment\n[infinoted]\nport = 16527\nname=\\sa\\tb\\\\\nplugins=note-text;note-chat;\n[autosave]\ninterval=30\n');
    expect(kf.getInteger('infinoted', 'port')).to.equal(16527);
    expect(kf.getString('infinoted', 'name')).to.equal(' a\tb\\');
    expect(kf.getStringList('infinoted', 'plugins')).to.deep.equal(['note-text', 'note-chat']);
    expect(kf.getString('autosave', 'interval')).to.equal('30');
  });

  it('rejects a key outside any group and a line that is not a pair', () => {
    expect(() => KeyFile.parse('port=1\n')).to.throw(/group/);
    expect(() => KeyFile.parse('[a]\njunk\n')).to.throw(/line 2/);
  });
});

describe('tandemd options', () => {
  it('defaults to port 6523, require-tls, ~/.infinote and note-text', () => {
    const o = resolveOptions(parseCommandLine([]), env({}));
    expect(o).to.include({ port: 6523, securityPolicy: 'require-tls', rootDirectory: '/home/u/.infinote' });
    expect(o.plugins).to.deep.equal(['note-text']);
    expect(o.password).to.equal(undefined);
  });

  it('lets the command line override the configuration file', () => {
    const files = { '/home/u/.config/infinoted.conf': '[infinoted]\nport=1000\nsecurity-policy=allow-tls\nroot-directory=/srv/r\n' };
    const o = resolveOptions(parseCommandLine(['-p', '2000', '--root-directory=/x']), env(files));
    expect(o).to.include({ port: 2000, securityPolicy: 'allow-tls', rootDirectory: '/x', configFile: '/home/u/.config/infinoted.conf' });
  });

  it('uses the first existing file of XDG_CONFIG_HOME then XDG_CONFIG_DIRS', () => {
    const vars = { XDG_CONFIG_HOME: '/c', XDG_CONFIG_DIRS: '/d1:/d2' };
    expect(configSearchPath(env({}, vars))).to.deep.equal(['/c/infinoted.conf', '/d1/infinoted.conf', '/d2/infinoted.conf']);
    const files = { '/d2/infinoted.conf': '[infinoted]\nport=3\n', '/d1/infinoted.conf': '[infinoted]\nport=2\n' };
    expect(resolveOptions(parseCommandLine([]), env(files, vars)).port).to.equal(2);
  });

  it('reads only --config-file when given, and fails if it is missing', () => {
    const files = { '/home/u/.config/infinoted.conf': '[infinoted]\nport=1\n', '/etc/t.conf': '[infinoted]\nport=7\n' };
    expect(resolveOptions(parseCommandLine(['--config-file', '/etc/t.conf']), env(files)).port).to.equal(7);
    expect(() => resolveOptions(parseCommandLine(['--config-file=/nope']), env(files))).to.throw(UsageError, /nope/);
  });

  it('collects repeated --plugins and --plugin-parameter into the key file', () => {
    const o = resolveOptions(parseCommandLine(['--plugins', 'note-text', '--plugins=note-chat', '--plugin-parameter=autosave:interval:5']), env({}));
    expect(o.plugins).to.deep.equal(['note-text', 'note-chat']);
    expect(o.config.getString('autosave', 'interval')).to.equal('5');
  });

  it('refuses PAM and daemon options with a message naming the alternative', () => {
    expect(() => parseCommandLine(['--pam-service=login'])).to.throw(UsageError, /--password/);
    expect(() => parseCommandLine(['-d'])).to.throw(UsageError, /service manager/);
    const files = { '/home/u/.config/infinoted.conf': '[infinoted]\npam-service=login\n' };
    expect(() => resolveOptions(parseCommandLine([]), env(files))).to.throw(UsageError, /PAM/);
  });

  it('rejects bad values with the offending value in the message', () => {
    expect(() => resolveOptions(parseCommandLine(['-p', '70000']), env({}))).to.throw(/70000/);
    expect(() => resolveOptions(parseCommandLine(['--security-policy=tls']), env({}))).to.throw(/"tls"/);
    expect(() => resolveOptions(parseCommandLine(['--listen-address=foo']), env({}))).to.throw(/foo/);
    expect(() => parseCommandLine(['--port'])).to.throw(/needs a value/);
    expect(() => parseCommandLine(['--bogus'])).to.throw(/unknown option --bogus/);
    expect(() => resolveOptions(parseCommandLine(['--create-key']), env({}))).to.throw(/--create-certificate/);
  });

  it('accepts short options with glued values and documents every option in --help', () => {
    const cmd = parseCommandLine(['-p6524', '-Psecret', '-v']);
    expect(cmd.version).to.equal(true);
    expect(resolveOptions(cmd, env({}))).to.include({ port: 6524, password: 'secret' });
    for (const name of ['--port', '--root-directory', '--security-policy', '--key-file', '--certificate-file', '--certificate-chain',
      '--create-key', '--create-certificate', '--password', '--listen-address', '--config-file', '--log-file', '--plugins',
      '--plugin-parameter', '--version']) {
      expect(helpText()).to.include(name);
    }
  });
});
