import { PassThrough } from 'node:stream';
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import type { DatabaseConnector, DatabaseSession } from '../ports.js';
import { forbidden, notFound, unavailable } from '../errors.js';
import { mapApiError } from './apiErrors.js';

const FIELD_SEPARATOR = '\x1f';

// psql inside the database container, as the image's superuser over its local socket.
const PSQL = `exec psql -X -q -v ON_ERROR_STOP=1 -A -t -F "$(printf '\\037')" -U "\${PGUSER:-\${POSTGRES_USER:-postgres}}" -d "\${1:-\${PGDATABASE:-postgres}}" -c "$0"`;

/**
 * SQL through `kubectl exec`-style streaming into the pod: it needs no network path to the
 * database and is authenticated and authorized by the API server (pods/exec).
 */
export class ExecDatabaseConnector implements DatabaseConnector {
  constructor(private readonly kc: KubeConfig) {}

  async open(namespace: string, pod: string, container?: string, options: { database?: string } = {}): Promise<DatabaseSession> {
    const exec = new Exec(this.kc);
    let closed = false;
    return {
      query: async (sql: string) => {
        if (closed) throw new Error('session is closed');
        const out = await run(exec, namespace, pod, container, ['sh', '-c', PSQL, sql, options.database ?? '']);
        return out
          .split('\n')
          .filter((line) => line.length > 0)
          .map((line) => line.split(FIELD_SEPARATOR));
      },
      close: async () => {
        closed = true;
      },
    };
  }
}

async function run(exec: Exec, namespace: string, pod: string, container: string | undefined, command: string[]): Promise<string> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks: Buffer[] = [];
  const errChunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c));
  stderr.on('data', (c: Buffer) => errChunks.push(c));
  const status = await new Promise<V1Status>((resolve, reject) => {
    exec
      .exec(namespace, pod, container ?? '', command, stdout, stderr, null, false, resolve)
      .then((ws) => ws.on('close', () => setTimeout(() => resolve({ status: 'Unknown' } as V1Status), 100)))
      .catch((e: unknown) => reject(describeExecFailure(e, namespace, pod)));
  });
  const err = Buffer.concat(errChunks).toString().trim();
  if (status.status !== 'Success') {
    const code = status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message;
    throw unavailable(`SQL in pod ${namespace}/${pod} failed${code ? ` (exit code ${code})` : ''}: ${err || status.message || 'no output'}`, 'check that PostgreSQL runs in the pod: kubectl exec ' + pod + ' -- pg_isready');
  }
  return Buffer.concat(chunks).toString();
}

function describeExecFailure(e: unknown, namespace: string, pod: string): Error {
  const text = String((e as { message?: string })?.message ?? e);
  if (/403/.test(text)) return forbidden(`not allowed to exec into pod ${namespace}/${pod}`, 'the backup needs "create" on pods/exec in this namespace');
  if (/404/.test(text)) return notFound(`pod ${namespace}/${pod} not found`);
  return mapApiError(e, `exec into pod ${namespace}/${pod}`);
}
