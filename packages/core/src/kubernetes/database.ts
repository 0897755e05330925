import { PassThrough } from 'node:stream';
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import {
  DEFAULT_QUERY_TIMEOUT_SECONDS,
  MAX_QUERY_OUTPUT_BYTES,
  type DatabaseConnector,
  type DatabaseSession,
  type QueryOptions,
} from '../ports.js';
import { forbidden, invalid, notFound, timeout, unavailable } from '../errors.js';
import { mapApiError } from './apiErrors.js';

const FIELD_SEPARATOR = '\x1f';

// psql inside the database container, as the image's superuser over its local socket; $2 is PGOPTIONS (statement_timeout, read-only).
const PSQL = `PGOPTIONS="$2" exec psql -X -q -v ON_ERROR_STOP=1 -A -t -F "$(printf '\\037')" -U "\${PGUSER:-\${POSTGRES_USER:-postgres}}" -d "\${1:-\${PGDATABASE:-postgres}}" -c "$0"`;

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
      query: async (sql: string, query: QueryOptions = {}) => {
        if (closed) throw new Error('session is closed');
        const seconds = query.timeoutSeconds ?? DEFAULT_QUERY_TIMEOUT_SECONDS;
        const settings = [
          `-c statement_timeout=${Math.ceil(seconds * 1000)}`,
          ...(query.readOnly ? ['-c default_transaction_read_only=on'] : []),
        ].join(' ');
        // Read-only twice over: the transaction, and the session default should the SQL end that transaction itself.
        const text = query.readOnly ? `BEGIN TRANSACTION READ ONLY;\n${sql}\n;\nCOMMIT;` : sql;
        const out = await run(exec, { namespace, pod, container, seconds, signal: query.signal }, [
          'sh',
          '-c',
          PSQL,
          text,
          options.database ?? '',
          settings,
        ]);
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

/** The server's statement_timeout answers first; the exec itself is closed this much later (a server that never answers). */
const EXEC_GRACE_SECONDS = 5;

interface ExecTarget {
  namespace: string;
  pod: string;
  container?: string;
  seconds: number;
  signal?: AbortSignal;
}

async function run(exec: Exec, target: ExecTarget, command: string[]): Promise<string> {
  const { namespace, pod, container, seconds } = target;
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks: Buffer[] = [];
  const errChunks: Buffer[] = [];
  let size = 0;
  let stop: ((e: Error) => void) | undefined;
  stdout.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_QUERY_OUTPUT_BYTES)
      stop?.(
        invalid(
          `SQL in pod ${namespace}/${pod} returned more than ${MAX_QUERY_OUTPUT_BYTES} bytes`,
          'return less: aggregate, or add a LIMIT',
        ),
      );
    else chunks.push(c);
  });
  stderr.on('data', (c: Buffer) => {
    if (errChunks.length < 64) errChunks.push(c);
  });
  const deadline = AbortSignal.any([AbortSignal.timeout((seconds + EXEC_GRACE_SECONDS) * 1000), ...(target.signal ? [target.signal] : [])]);
  const status = await new Promise<V1Status>((resolve, reject) => {
    let socket: { close(): void } | undefined;
    stop = (e: Error) => {
      socket?.close();
      reject(e);
    };
    const onDeadline = () =>
      stop!(
        target.signal?.aborted
          ? (target.signal.reason as Error)
          : timeout(
              `SQL in pod ${namespace}/${pod} did not answer within ${seconds}s`,
              `check that PostgreSQL answers: kubectl exec ${pod} -n ${namespace} -- pg_isready`,
            ),
      );
    if (deadline.aborted) return onDeadline();
    deadline.addEventListener('abort', onDeadline, { once: true });
    const done = (s: V1Status) => {
      deadline.removeEventListener('abort', onDeadline);
      resolve(s);
    };
    exec
      .exec(namespace, pod, container ?? '', command, stdout, stderr, null, false, done)
      .then((ws) => {
        socket = ws;
        if (deadline.aborted) ws.close();
        ws.on('close', () => setTimeout(() => done({ status: 'Unknown' } as V1Status), 100));
      })
      .catch((e: unknown) => {
        deadline.removeEventListener('abort', onDeadline);
        reject(describeExecFailure(e, namespace, pod));
      });
  });
  const err = Buffer.concat(errChunks).toString().trim();
  if (status.status !== 'Success') {
    const code = status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message;
    if (/canceling statement due to statement timeout/.test(err))
      throw timeout(
        `SQL in pod ${namespace}/${pod} did not finish within ${seconds}s (statement_timeout)`,
        `check what holds it up: kubectl exec ${pod} -n ${namespace} -- psql -c 'SELECT * FROM pg_stat_activity'`,
      );
    throw unavailable(
      `SQL in pod ${namespace}/${pod} failed${code ? ` (exit code ${code})` : ''}: ${err || status.message || 'no output'}`,
      'check that PostgreSQL runs in the pod: kubectl exec ' + pod + ' -- pg_isready',
    );
  }
  return Buffer.concat(chunks).toString();
}

function describeExecFailure(e: unknown, namespace: string, pod: string): Error {
  const text = String((e as { message?: string })?.message ?? e);
  if (/403/.test(text))
    return forbidden(`not allowed to exec into pod ${namespace}/${pod}`, 'the backup needs "create" on pods/exec in this namespace');
  if (/404/.test(text)) return notFound(`pod ${namespace}/${pod} not found`);
  return mapApiError(e, `exec into pod ${namespace}/${pod}`);
}
