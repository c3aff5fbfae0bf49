import { expect } from 'chai';
import { parseArgs, UsageError } from '../src/cli/args.js';

const env = { USER: 'carol' };

describe('tandem argument parsing', () => {
  it('uses localhost:6523, the login name, STARTTLS-when-offered and 30 s by default', () => {
    const { options, command } = parseArgs(['ls'], env);
    expect(options).to.include({ host: 'localhost', port: 6523, user: 'carol', timeout: 30, insecure: false });
    expect(options.tls).to.equal(undefined);
    expect(command).to.deep.equal({ name: 'ls', recursive: false, path: '/' });
  });

  it('accepts global options before and after the command', () => {
    const { options, command } = parseArgs(['--host', 'h', 'cat', '/doc', '--port=7000', '--tls', '--user', 'al'], env);
    expect(options).to.include({ host: 'h', port: 7000, tls: true, user: 'al' });
    expect(command).to.deep.equal({ name: 'cat', path: '/doc' });
  });

  it('takes a WebSocket URL instead of host and port, and refuses both or another scheme', () => {
    expect(parseArgs(['--url', 'ws://h:8080', 'ls'], env).options.url).to.equal('ws://h:8080');
    expect(parseArgs(['ls'], env).options.url).to.equal(undefined);
    expect(() => parseArgs(['--url', 'ws://h:1', '--port', '2', 'ls'], env)).to.throw(UsageError, /drop --host\/--port/);
    expect(() => parseArgs(['--url', 'http://h:1', 'ls'], env)).to.throw(UsageError, /ws:\/\/ or wss:\/\//);
  });

  it('reads -1 as a position, not an option', () => {
    expect(parseArgs(['insert', '/doc', '-1', 'tail'], env).command).to.deep.equal({
      name: 'insert', path: '/doc', pos: -1, text: 'tail',
    });
  });

  it('reads "-" as the standard input file and "--" as the end of options', () => {
    expect(parseArgs(['put', '/d', '-'], env).command).to.deep.equal({ name: 'put', path: '/d', file: '-' });
    expect(parseArgs(['insert', '/d', '0', '--', '--tls'], env).command).to.include({ text: '--tls' });
  });

  it('gives -p to mkdir as "parents" and -R to ls as "recursive"', () => {
    expect(parseArgs(['mkdir', '-p', '/a/b'], env).command).to.deep.equal({ name: 'mkdir', parents: true, path: '/a/b' });
    expect(parseArgs(['ls', '-R', '/a'], env).command).to.deep.equal({ name: 'ls', recursive: true, path: '/a' });
    expect(parseArgs(['-p', '99', 'ls'], env).options.port).to.equal(99);
  });

  it('takes the password from TANDEM_PASSWORD unless given on the command line', () => {
    expect(parseArgs(['ls'], { TANDEM_PASSWORD: 's3' }).options.password).to.equal('s3');
    expect(parseArgs(['--password', 'x', 'ls'], { TANDEM_PASSWORD: 's3' }).options.password).to.equal('x');
    const fromFile = parseArgs(['--password-file', '/f', 'ls'], { TANDEM_PASSWORD: 's3' }).options;
    expect(fromFile.password).to.equal(undefined);
    expect(fromFile.passwordFile).to.equal('/f');
  });

  it('parses watch --for and --no-tls', () => {
    const { options, command } = parseArgs(['--no-tls', 'watch', '/d', '--for', '2.5'], env);
    expect(options.tls).to.equal(false);
    expect(command).to.deep.equal({ name: 'watch', path: '/d', forSeconds: 2.5 });
  });

  for (const [argv, pattern] of [
    [[], /no command/],
    [['frob'], /unknown command "frob"/],
    [['cat'], /cat takes 1 argument, got 0/],
    [['ls', '--bogus'], /unknown option --bogus/],
    [['--port', 'x', 'ls'], /port must be an integer/],
    [['--port', '70000', 'ls'], /at most 65535/],
    [['--tls', '--no-tls', 'ls'], /contradict/],
    [['delete', '/d', '-1', '2'], /POS must be at least 0/],
    [['--timeout', '0', 'ls'], /positive number/],
    [['--host'], /needs a value/],
  ] as Array<[string[], RegExp]>) {
    it(`rejects ${JSON.stringify(argv)} with a usage error`, () => {
      expect(() => parseArgs(argv, env)).to.throw(UsageError, pattern);
    });
  }
});
