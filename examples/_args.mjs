// Shared command-line handling for the examples: --host, --port, --user, --password, --insecure.
import { parseArgs } from 'node:util';

export function exampleOptions(extra = {}) {
  const { values, positionals } = parseArgs({
    options: {
      host: { type: 'string', default: 'localhost' },
      port: { type: 'string', default: '6523' },
      user: { type: 'string' },
      password: { type: 'string' },
      insecure: { type: 'boolean', default: false },
      'no-tls': { type: 'boolean', default: false },
      ...extra,
    },
    allowPositionals: true,
  });
  return {
    connect: {
      host: values.host,
      port: Number(values.port),
      password: values.password ?? process.env.TANDEM_PASSWORD,
      insecure: values.insecure,
      tls: values['no-tls'] ? false : undefined,
      timeoutMs: 15000,
    },
    values,
    positionals,
  };
}
