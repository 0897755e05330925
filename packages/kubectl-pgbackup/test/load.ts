// The write load of the consistency tests, on any PostgreSQL the host reaches (kwok's forwarded port, a real node's pod IP):
// pgbench, and a commit log whose committed ids are recorded client-side; and the checks a restored copy must pass.
import { expect } from '@jest/globals';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { KUBECTL, MIN, eventually, run } from '../../../tools/cluster/test/kube.js';
import { podSql } from '../../../tools/cluster/test/postgres.js';
import { pluginEnv } from './plugin.js';

export const ENV = pluginEnv(['/usr/lib/postgresql/15/bin']);
export const PASSWORD = 'test';

/** `kubectl pgbackup ARGS` against the local cluster; never throws on a non-zero exit. */
export const pgbackup = (args: string[], timeoutMs = 3 * MIN) => run(KUBECTL, ['pgbackup', ...args], { env: ENV, timeoutMs });

/** A client that inserts ids 1, 2, 3… into commit_log, one transaction each, and records which committed. */
export class CommitLog {
  lastCommitted = 0;
  private next = 1;
  private stopped = false;
  private error?: Error;
  private readonly psql: ChildProcessWithoutNullStreams;
  private buffer = '';
  private waiting?: (line: string) => void;
  readonly done: Promise<void>;

  constructor(host: string, port: string) {
    this.psql = spawn('psql', ['-XAtq', '-v', 'ON_ERROR_STOP=1', '-h', host, '-p', port, '-U', 'postgres', 'postgres'], {
      env: { ...ENV, PGPASSWORD: PASSWORD },
    });
    let stderr = '';
    this.psql.stderr.on('data', (d) => (stderr += d));
    this.psql.stdout.on('data', (d: Buffer) => {
      this.buffer += String(d);
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        this.waiting?.(line);
      }
    });
    this.psql.on('exit', (code) => {
      if (!this.stopped) this.error = new Error(`commit-log psql exited ${code}: ${stderr}`);
      this.waiting?.('exit');
    });
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.stopped && !this.error) {
      const id = this.next++;
      const acked = new Promise<string>((resolve) => (this.waiting = resolve));
      this.psql.stdin.write(`INSERT INTO commit_log(id) VALUES (${id});\n\\echo ack ${id}\n`);
      const line = await acked;
      // psql prints the ack only after the INSERT's commit returned (autocommit, synchronous_commit on).
      if (line === `ack ${id}`) this.lastCommitted = id;
      else if (!this.stopped) this.error = new Error(`commit log: unexpected "${line}" for id ${id}`);
    }
  }

  check(): void {
    if (this.error) throw this.error;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.psql.stdin.end();
    await Promise.race([this.done, new Promise((r) => setTimeout(r, 5000))]);
    this.psql.kill('SIGKILL');
  }
}

/** pgbench (scale 2, 4 clients) and a commit log on pod's server at host:port, running once the commit log has committed 50 ids. */
export async function startLoad(ns: string, pod: string, host: string, port: string) {
  const env = { ...ENV, PGPASSWORD: PASSWORD };
  const init = await run('pgbench', ['-i', '-s', '2', '-q', '-h', host, '-p', port, '-U', 'postgres', 'postgres'], {
    env,
    timeoutMs: 2 * MIN,
  });
  if (init.code !== 0) throw new Error(`pgbench -i: ${init.stderr}`);
  await podSql(ns, pod, 'CREATE TABLE commit_log (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())');
  const pgbench = spawn(
    'pgbench',
    ['-c', '4', '-j', '2', '-T', '1800', '-n', '-P', '10', '-h', host, '-p', port, '-U', 'postgres', 'postgres'],
    {
      env,
    },
  );
  let output = '';
  pgbench.stdout.on('data', (d) => (output += d));
  pgbench.stderr.on('data', (d) => (output += d));
  const commitLog = new CommitLog(host, port);
  await eventually('the load to write', 30_000, async () => (commitLog.lastCommitted > 50 ? true : undefined));
  return {
    commitLog,
    pgbenchOutput: () => output,
    stop: async () => {
      pgbench.kill('SIGINT');
      await commitLog.stop();
    },
  };
}

/** The SQL of `verify --sql` that holds when every id committed before the backup began is in the copy. */
export const committedBeforeSql = (committedBefore: number) =>
  `SELECT count(*) FILTER (WHERE id <= ${committedBefore}) = ${committedBefore} AND coalesce(max(id), 0) >= ${committedBefore} FROM commit_log`;

/** A restored copy in `pod` is one instant of the load that began before committedBefore: returns the highest id it holds. */
export async function expectConsistentCopy(ns: string, pod: string, committedBefore: number): Promise<number> {
  const [[inRecovery, count, min, max, below]] = (await podSql(
    ns,
    pod,
    `SELECT pg_is_in_recovery(), count(*), coalesce(min(id), 0), coalesce(max(id), 0), count(*) FILTER (WHERE id <= ${committedBefore}) FROM commit_log`,
  )) as [[string, string, string, string, string]];
  expect(inRecovery).toBe('f');
  // Every id committed before the backup started is there, with no gap below it.
  expect(Number(max)).toBeGreaterThanOrEqual(committedBefore);
  expect(Number(below)).toBe(committedBefore);
  expect(Number(min)).toBe(committedBefore > 0 ? 1 : 0);
  // Ids were committed one after the other, so the image holds a prefix 1..max: no hole anywhere.
  expect(Number(count)).toBe(Number(max));
  // pgbench's transactions are atomic in the image: every balance sum equals the history's.
  const [[accounts, tellers, branches, history]] = (await podSql(
    ns,
    pod,
    'SELECT (SELECT sum(abalance) FROM pgbench_accounts), (SELECT sum(tbalance) FROM pgbench_tellers), (SELECT sum(bbalance) FROM pgbench_branches), (SELECT coalesce(sum(delta), 0) FROM pgbench_history)',
  )) as [[string, string, string, string]];
  expect([accounts, tellers, branches]).toEqual([history, history, history]);
  return Number(max);
}
