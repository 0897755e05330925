// The verbs end to end on core's in-memory fakes: flags → use case → output and exit code.
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import path from 'node:path';
import * as core from '@pgbackup/core';
import { BackupListSchema, BackupSchema, forbidden, invalid } from '@pgbackup/core/isomorphic';
import { type FakeDeps, aBackupSnapshot, aSnapshotClass, aStatefulSet, aStatefulSetManifest, fakeDeps } from '@pgbackup/core/testing';
import { setRuntimeFactory, type ToolDeps } from './baseCommand.js';

const ROOT = path.join(import.meta.dirname, '..');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let deps: FakeDeps & Pick<ToolDeps, 'scheduleWriter' | 'access'>;
const applied: string[] = [];

beforeEach(() => {
  applied.length = 0;
  const base = fakeDeps({ statefulSets: [aStatefulSet()], classes: [aSnapshotClass({ name: 'fast-snap', isDefault: true })] });
  base.database.primary('db', 'pg-0');
  deps = {
    ...base,
    scheduleWriter: {
      manifests: (spec) => core.scheduleManifests(spec),
      apply: async (spec) =>
        core
          .scheduleManifests(spec)
          .map((object) => (applied.push(`${object.kind}/${object.metadata.name}`), { object, action: 'created' as const })),
      remove: async () => ['cronjob/pgbackup-pg'],
    },
    access: { review: async (checks) => checks.map((check) => ({ check, allowed: check.resource !== 'leases' })) },
  };
  setRuntimeFactory(async (flags) => ({ core, deps, namespace: flags.namespace ?? 'db' }));
});

afterEach(() => {
  setRuntimeFactory();
  jest.restoreAllMocks();
});

async function cli(verb: string, ...argv: string[]): Promise<Result> {
  const out: string[] = [];
  const err: string[] = [];
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => (err.push(String(chunk)), true));
  const { default: Command } = (await import(`./commands/${verb}.js`)) as {
    default: { run(argv: string[], root: string): Promise<unknown> };
  };
  let code = 0;
  try {
    await Command.run(argv, ROOT);
  } catch (e) {
    code = (e as { oclif?: { exit?: number } }).oclif?.exit ?? -1;
    if (code === -1) err.push(String(e));
  } finally {
    jest.restoreAllMocks();
  }
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** Resolves once a verb has opened its watch on the fake snapshots. */
async function watching(): Promise<void> {
  while (deps.snapshots.openWatches === 0) await new Promise((r) => setImmediate(r));
}

const completed = (id: string, startedAt: string, extra = {}) => aBackupSnapshot({ id, startedAt, ...extra });

describe('create', () => {
  it('starts a backup and prints it kubectl-style', async () => {
    const r = await cli('create', 'pg', '-n', 'db');
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toMatch(/^backup\/pg-\d{14}-[a-z0-9]{4} created \(1 VolumeSnapshot, 1Gi\)\n$/);
    expect(r.stderr).toContain('follow it with: kubectl pgbackup status pg-');
    expect(deps.snapshots.all()).toHaveLength(1);
  });

  it('waits with --wait, reporting progress per volume on stderr', async () => {
    const r = await cli('create', 'pg', '--wait');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/completed/);
    expect(r.stderr).toMatch(/1\/1 ready: data-pg-0: ready/);
  });

  it('exits 5 when the snapshots are not ready within --timeout, and says the backup goes on', async () => {
    deps.snapshots.storage = 'cut';
    const r = await cli('create', 'pg', '--wait', '--timeout', '1s');
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(
      /error: backup pg-\S+ is still in progress after 1s \(0\/1 snapshots ready\)\nhint: it goes on; follow it: kubectl pgbackup status pg-/,
    );
  });

  it('on Ctrl-C during --wait stops waiting (exit 130) and says how to follow the backup, which goes on', async () => {
    deps.snapshots.storage = 'cut';
    const running = cli('create', 'pg', '--wait');
    await new Promise((r) => setTimeout(r, 300));
    process.emit('SIGINT');
    const r = await running;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/error: stopped waiting; backup\/pg-\S+ goes on\nhint: follow it with: kubectl pgbackup status pg-/);
    expect(deps.snapshots.all()[0]!.annotations['pgbackup.io/phase']).toBe('cut');
  });

  it('prints the VolumeSnapshots as YAML with --dry-run and creates nothing', async () => {
    const r = await cli('create', 'pg', '--dry-run');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/kind: VolumeSnapshot\n/);
    expect(r.stdout).toMatch(/persistentVolumeClaimName: data-pg-0/);
    expect(deps.snapshots.all()).toHaveLength(0);
  });

  it('takes --dry-run as kubectl spells it: =client, =server, =none; anything else is a usage error', async () => {
    for (const mode of ['client', 'server']) {
      const r = await cli('create', 'pg', `--dry-run=${mode}`);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/kind: VolumeSnapshot\n/);
    }
    const names = await cli('create', 'pg', '--dry-run=server', '-o', 'jsonpath={.items[*].kind}');
    expect(names.stdout).toBe('VolumeSnapshot');
    expect(deps.snapshots.all()).toHaveLength(0);
    const bad = await cli('create', 'pg', '--dry-run=maybe');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: Expected --dry-run=maybe to be one of: none, client, server/);
    expect((await cli('create', 'pg', '--dry-run=none')).code).toBe(0);
    expect(deps.snapshots.all().length).toBeGreaterThan(0);
  });

  it('--dry-run=server has the API server check each object and prints what it answered; --dry-run=client does not ask it', async () => {
    await cli('create', 'pg', '--dry-run=client');
    expect(deps.serverDryRun.requests).toEqual([]);
    const r = await cli('create', 'pg', '--dry-run=server', '-o', 'json');
    expect(r.code).toBe(0);
    expect(deps.serverDryRun.requests).toEqual([expect.stringMatching(/^create VolumeSnapshot\/pg-\d{14}-[a-z0-9]{4}-data-pg-0$/)]);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'List', items: [{ kind: 'VolumeSnapshot' }] });
    expect((await cli('create', 'pg', '--dry-run=server')).stderr).toMatch(
      /^backup\/pg-\S+ \(server dry run\): checkpoint-snapshot of pod pg-0/,
    );
  });

  it('--dry-run=server fails with the API server refusal and writes nothing', async () => {
    deps.serverDryRun.refuse = (o) => invalid(`creating ${o.kind} ${o.metadata.name} (server dry run): denied by policy no-snapshots`);
    const r = await cli('create', 'pg', '--dry-run=server');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: creating VolumeSnapshot pg-\S+ \(server dry run\): denied by policy no-snapshots\n/m);
    expect(r.stdout).toBe('');
    expect(deps.snapshots.all()).toHaveLength(0);
  });

  it('refuses an unknown -o before doing anything', async () => {
    const r = await cli('create', 'pg', '-o', 'xml');
    expect(r).toMatchObject({
      code: 2,
      stderr: 'error: unknown output format "xml"\nhint: use one of: table, wide, json, yaml, name, jsonpath=, custom-columns=\n',
    });
    expect(deps.snapshots.all()).toHaveLength(0);
  });

  it('exits 2 with a precise message for an invalid name', async () => {
    const r = await cli('create', 'Bad_Name');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: invalid StatefulSet name "Bad_Name": must consist of lower case/);
  });

  it('exits 3 for an unknown StatefulSet', async () => {
    const r = await cli('create', 'nope');
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('error: StatefulSet "nope" not found in namespace "db"\nhint: list them with: kubectl get statefulsets -n db\n');
  });

  it('exits 2 for a bad --timeout and for an unknown --type', async () => {
    expect((await cli('create', 'pg', '--timeout', 'soon')).code).toBe(2);
    expect((await cli('create', 'pg', '--type', 'weekly')).code).toBe(2);
  });
});

describe('list', () => {
  beforeEach(() => {
    deps.snapshots.put(
      completed('pg-20260601020000-aaaa', '2026-06-01T02:00:00Z'),
      completed('pg-20260531020000-bbbb', '2026-05-31T02:00:00Z', { pinned: true }),
    );
  });

  it('-w prints the list, then each backup again when it changes, the header once; Ctrl-C ends it with exit 0', async () => {
    const running = cli('list', 'pg', '-w');
    await watching();
    // The snapshot as the backup goes: created, cut by the storage, ready.
    const id = 'pg-20260601030000-cccc';
    deps.snapshots.put(aBackupSnapshot({ id, startedAt: '2026-06-01T03:00:00Z', phase: 'consistency' }));
    deps.snapshots.put(aBackupSnapshot({ id, startedAt: '2026-06-01T03:00:00Z', phase: 'cut', readyToUse: false }));
    deps.snapshots.put(aBackupSnapshot({ id, startedAt: '2026-06-01T03:00:00Z', phase: 'cut', readyToUse: true }));
    await new Promise((r) => setImmediate(r));
    process.emit('SIGINT');
    const r = await running;
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith('ID'))).toHaveLength(1);
    expect(lines.slice(1, 3).map((l) => l.split(/\s+/)[0])).toEqual(['pg-20260601020000-aaaa', 'pg-20260531020000-bbbb']);
    const states = lines.filter((l) => l.startsWith('pg-20260601030000-cccc')).map((l) => l.split(/\s+/)[3]);
    expect(states[0]).toBe('in_progress');
    expect(states.at(-1)).toBe('completed');
    expect(deps.snapshots.openWatches).toBe(0);
  });

  it('--watch-only prints only the changes; -o json prints each changed backup as a Backup', async () => {
    const running = cli('list', 'pg', '--watch-only', '-o', 'json');
    await watching();
    deps.snapshots.put(completed('pg-20260601030000-cccc', '2026-06-01T03:00:00Z'));
    await new Promise((r) => setImmediate(r));
    process.emit('SIGINT');
    const r = await running;
    expect(r.code).toBe(0);
    expect(BackupSchema.parse(JSON.parse(r.stdout))).toMatchObject({ id: 'pg-20260601030000-cccc', status: 'completed' });
  });

  it('prints a table newest first with the documented columns', async () => {
    const r = await cli('list', 'pg');
    const [header, first, second] = r.stdout.trimEnd().split('\n');
    expect(header!.split(/\s+/)).toEqual(['ID', 'STATEFULSET', 'TYPE', 'STATUS', 'METHOD', 'SIZE', 'AGE', 'PINNED', 'VERIFIED']);
    expect(first).toMatch(/^pg-20260601020000-aaaa\s+pg\s+manual\s+completed\s+checkpoint-snapshot\s+1Gi\s+\S+\s+no\s+-$/);
    expect(second).toMatch(/^pg-20260531020000-bbbb .* yes\s+-$/);
  });

  it('prints json that parses back through the schema', async () => {
    const r = await cli('list', '-o', 'json');
    expect(BackupListSchema.parse(JSON.parse(r.stdout)).items.map((b) => b.id)).toEqual([
      'pg-20260601020000-aaaa',
      'pg-20260531020000-bbbb',
    ]);
  });

  it('filters by --status and --pvc, and adds NAMESPACE with -A', async () => {
    expect((await cli('list', '--status', 'failed')).stderr).toBe('No backups found in db namespace.\n');
    expect((await cli('list', '--pvc', 'data-pg-0', '-o', 'name')).stdout).toBe(
      'backup/pg-20260601020000-aaaa\nbackup/pg-20260531020000-bbbb\n',
    );
    expect((await cli('list', '-A', '--no-headers')).stdout).toMatch(/^db\s+pg-20260601020000-aaaa/);
  });

  it('rejects an invalid label selector with exit 2', async () => {
    const r = await cli('list', '-l', 'a in (b');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: invalid label selector "a in \(b"/);
  });

  it('exits 4 when the API server forbids listing', async () => {
    deps.snapshots.failures.list = forbidden('listing VolumeSnapshots: volumesnapshots is forbidden', 'ask a cluster admin');
    const r = await cli('list');
    expect(r.code).toBe(4);
    expect(r.stderr).toBe('error: listing VolumeSnapshots: volumesnapshots is forbidden\nhint: ask a cluster admin\n');
  });
});

describe('status', () => {
  beforeEach(() => deps.snapshots.put(completed('pg-20260601020000-aaaa', '2026-06-01T02:00:00Z')));

  it('shows a backup when the snapshots carry the id', async () => {
    const r = await cli('status', 'pg-20260601020000-aaaa');
    expect(r.stdout).toMatch(/^Backup:\s+pg-20260601020000-aaaa\n/);
    expect(r.stdout).toMatch(/Snapshots \(1\/1 ready\):\n\s+NAME\s+PVC\s+READY/);
    expect(BackupSchema.parse(JSON.parse((await cli('status', 'pg-20260601020000-aaaa', '-o', 'json')).stdout)).status).toBe('completed');
  });

  it('else shows the StatefulSet with its newest backup', async () => {
    const r = await cli('status', 'pg');
    expect(r.stdout).toMatch(/^StatefulSet:\s+db\/pg\n/);
    expect(r.stdout).toMatch(/Newest completed:\s+pg-20260601020000-aaaa \(completed/);
  });

  it('-w prints the backup, then again each time it changes; Ctrl-C ends it with exit 0', async () => {
    const running = cli('status', 'pg-20260601020000-aaaa', '-w');
    await watching();
    deps.snapshots.put(completed('pg-20260601020000-aaaa', '2026-06-01T02:00:00Z', { pinned: true }));
    await new Promise((r) => setImmediate(r));
    process.emit('SIGINT');
    const r = await running;
    expect(r.code).toBe(0);
    expect([...r.stdout.matchAll(/^Pinned:\s+(\S+)$/gm)].map((m) => m[1])).toEqual(['no', 'yes']);
  });

  it('-w on a StatefulSet prints its status again when its backups change', async () => {
    const running = cli('status', 'pg', '-w');
    await watching();
    deps.snapshots.put(completed('pg-20260601030000-bbbb', '2026-06-01T03:00:00Z'));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    process.emit('SIGINT');
    const r = await running;
    expect(r.code).toBe(0);
    expect([...r.stdout.matchAll(/^Newest completed:\s+(\S+)/gm)].map((m) => m[1])).toEqual([
      'pg-20260601020000-aaaa',
      'pg-20260601030000-bbbb',
    ]);
  });

  it('exits 3 when the name is neither', async () => {
    const r = await cli('status', 'nothing');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^error: no backup and no StatefulSet named "nothing" in namespace "db"/);
  });
});

describe('delete', () => {
  beforeEach(() =>
    deps.snapshots.put(
      completed('pg-20260601020000-aaaa', '2026-06-01T02:00:00Z'),
      completed('pg-20260531020000-bbbb', '2026-05-31T02:00:00Z'),
    ),
  );

  it('asks for --yes when stdin is not a terminal', async () => {
    const r = await cli('delete', 'pg-20260531020000-bbbb');
    expect(r).toMatchObject({ code: 1, stderr: 'error: confirmation required; re-run with --yes\n' });
    expect(deps.snapshots.all()).toHaveLength(2);
  });

  it('deletes with --yes, and --dry-run deletes nothing', async () => {
    expect((await cli('delete', 'pg-20260531020000-bbbb', '--dry-run')).stdout).toBe(
      'volumesnapshot.snapshot.storage.k8s.io/pg-20260531020000-bbbb-data-pg-0 deleted (dry run)\n',
    );
    expect(deps.snapshots.all()).toHaveLength(2);
    expect(await cli('delete', 'pg-20260531020000-bbbb', '--yes')).toMatchObject({
      code: 0,
      stdout: 'backup/pg-20260531020000-bbbb deleted\n',
    });
    expect(deps.snapshots.all()).toHaveLength(1);
  });

  it('--dry-run -o json prints the VolumeSnapshots it would delete; =server has the API server check each deletion', async () => {
    const r = await cli('delete', 'pg-20260531020000-bbbb', '--dry-run', '-o', 'json');
    expect(JSON.parse(r.stdout)).toEqual({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'snapshot.storage.k8s.io/v1',
          kind: 'VolumeSnapshot',
          metadata: { name: 'pg-20260531020000-bbbb-data-pg-0', namespace: 'db' },
        },
      ],
    });
    expect(deps.serverDryRun.requests).toEqual([]);
    const server = await cli('delete', 'pg-20260531020000-bbbb', '--dry-run=server', '-o', 'name');
    expect(server.stdout).toBe('volumesnapshot.snapshot.storage.k8s.io/pg-20260531020000-bbbb-data-pg-0\n');
    expect(deps.serverDryRun.requests).toEqual(['delete VolumeSnapshot/pg-20260531020000-bbbb-data-pg-0']);
    expect(deps.snapshots.all()).toHaveLength(2);
  });

  it('refuses the last completed backup with exit 6 before asking anything', async () => {
    await cli('delete', 'pg-20260531020000-bbbb', '--yes');
    const r = await cli('delete', 'pg-20260601020000-aaaa');
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/^error: backup pg-20260601020000-aaaa is the last completed backup of StatefulSet pg\nhint: .*--force/);
  });
});

describe('prune, pin, schedule, doctor', () => {
  it('shows what --dry-run would delete and why', async () => {
    deps.snapshots.put(
      completed('pg-20260601020000-aaaa', '2026-06-01T02:00:00Z'),
      completed('pg-20260531020000-bbbb', '2026-05-31T02:00:00Z'),
    );
    const r = await cli('prune', 'pg', '--keep-last', '1', '--dry-run');
    expect(r.stdout).toMatch(/pg-20260531020000-bbbb\s+completed\s+\S+\s+delete \(dry run\)\s+kept by no retention rule/);
    expect(r.stderr).toBe('1 of 2 backups would be deleted (dry run)\n');
    expect(deps.snapshots.all()).toHaveLength(2);
  });

  it('refuses a policy that keeps nothing', async () => {
    expect((await cli('prune', 'pg')).code).toBe(2);
  });

  it('pins and unpins', async () => {
    deps.snapshots.put(completed('pg-20260601020000-aaaa', '2026-06-01T02:00:00Z'));
    expect((await cli('pin', 'pg-20260601020000-aaaa')).stdout).toBe('backup/pg-20260601020000-aaaa pinned\n');
    expect((await cli('list', '-o', 'json')).stdout).toMatch(/"pinned": true/);
    expect((await cli('unpin', 'pg-20260601020000-aaaa')).stdout).toBe('backup/pg-20260601020000-aaaa unpinned\n');
  });

  it('writes the CronJob with its RBAC, and validates the cron expression', async () => {
    const r = await cli('schedule/set', 'pg', '--cron', '0 2 * * *', '--keep-daily', '7');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('cronjob.batch/pgbackup-pg created\n');
    expect(applied).toEqual([
      'ServiceAccount/pgbackup-pg',
      'Role/pgbackup-pg',
      'RoleBinding/pgbackup-pg',
      'ClusterRole/kubectl-pgbackup',
      'ClusterRoleBinding/pgbackup-db-pg',
      'CronJob/pgbackup-pg',
    ]);
    const bad = await cli('schedule/set', 'pg', '--cron', '0 2 * *');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/a CronJob schedule has 5 fields/);
  });

  it('prints the schedule objects with --dry-run: Forbid, history limits, create then prune', async () => {
    const r = await cli('schedule/set', 'pg', '--cron', '@daily', '--keep-last', '3', '--dry-run', '--image', 'example/kubectl-pgbackup:1');
    expect(applied).toEqual([]);
    expect(r.stdout).toMatch(/concurrencyPolicy: Forbid/);
    expect(r.stdout).toMatch(/successfulJobsHistoryLimit: 3/);
    expect(r.stdout).toMatch(
      /kubectl-pgbackup create pg -n db --type scheduled --lock-wait 15m --wait --timeout 3600s; kubectl-pgbackup prune pg -n db --keep-last 3/,
    );
  });

  it('schedule set --verify: each run verifies its backup before pruning, and only then may its Role make a scratch restore', async () => {
    const r = await cli(
      'schedule/set',
      'pg',
      '--cron',
      '@daily',
      '--keep-last',
      '3',
      '--verify',
      '--dry-run',
      '-o',
      'json',
      '--image',
      'example/kubectl-pgbackup:1',
    );
    expect(r.code).toBe(0);
    const items = (
      JSON.parse(r.stdout) as {
        items: {
          kind: string;
          metadata: { annotations?: Record<string, string> };
          rules?: { resources: string[]; verbs: string[] }[];
          spec?: any;
        }[];
      }
    ).items;
    const cronJob = items.find((o) => o.kind === 'CronJob')!;
    expect(cronJob.metadata.annotations).toMatchObject({ 'pgbackup.io/verify': 'true' });
    expect(cronJob.spec.jobTemplate.spec.template.spec.containers[0].command[2]).toBe(
      'set -e; id=$(kubectl-pgbackup create pg -n db --type scheduled --lock-wait 15m --wait --timeout 3600s -o name); kubectl-pgbackup verify "${id#backup/}" -n db; kubectl-pgbackup prune pg -n db --keep-last 3',
    );
    const rules = items.find((o) => o.kind === 'Role')!.rules!.map((x) => `${x.resources.join()} ${x.verbs.join()}`);
    expect(rules).toEqual(
      expect.arrayContaining(['statefulsets create,delete', 'persistentvolumeclaims create,delete', 'services get,create,delete']),
    );
    const plain = await cli('schedule/set', 'pg', '--cron', '@daily', '--dry-run', '-o', 'json', '--image', 'example/kubectl-pgbackup:1');
    expect(plain.stdout).not.toMatch(/services|verify/);
  });

  it('doctor marks each check and exits 1 when one fails, with the fix', async () => {
    const r = await cli('doctor', 'pg');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^✓ VolumeSnapshot API: /m);
    expect(r.stdout).toMatch(/^✗ RBAC: missing: get leases.coordination.k8s.io, .*\n    fix: /m);
    expect(r.stdout).toMatch(/^✓ PostgreSQL: primary pg-0/m);
  });
});

describe('__complete (cobra protocol)', () => {
  it('completes verbs, then StatefulSets or backup ids, then flags, each list ending with :4', async () => {
    deps.snapshots.put(completed('pg-20260601020000-aaaa', '2026-06-01T02:00:00Z'));
    expect((await cli('__complete', 'p')).stdout).toBe('pin\nprune\n:4\n');
    expect((await cli('__complete', 'schedule', '')).stdout).toBe('remove\nset\nshow\n:4\n');
    expect((await cli('__complete', 'create', '-n', 'db', '')).stdout).toBe('pg\n:4\n');
    expect((await cli('__complete', 'delete', '')).stdout).toBe('pg-20260601020000-aaaa\n:4\n');
    expect((await cli('__complete', 'list', '-o', '')).stdout).toBe('table\nwide\njson\nyaml\nname\njsonpath=\ncustom-columns=\n:4\n');
    expect((await cli('__complete', 'delete', '--f')).stdout).toBe('--force\n:4\n');
  });
});

describe('restore and verify', () => {
  const ID = 'pg-20260601020000-abcd';
  beforeEach(() => {
    deps.snapshots.put(completed(ID, '2026-06-01T02:00:00Z'));
    deps.workloadWriter.put(aStatefulSetManifest());
    deps.database.fallback = {
      answer: (sql) =>
        sql.includes('pg_postmaster_start_time')
          ? [['false', '17.2', 'now']]
          : sql.includes('FROM pg_database')
            ? [['postgres']]
            : sql.includes('bt_index_check')
              ? [['150', '0', '']]
              : sql.includes('query_to_xml')
                ? [['public.t', '7']]
                : sql === 'SELECT false'
                  ? [['f']]
                  : undefined,
    };
  });

  it('restore --dry-run -o json prints the plan and creates nothing', async () => {
    const r = await cli('restore', ID, '--to', 'pg-restored', '-n', 'db', '--dry-run', '-o', 'json');
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as { dryRun: boolean; create: { kind: string; metadata: { name: string } }[] };
    expect(plan.dryRun).toBe(true);
    expect(plan.create.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'PersistentVolumeClaim/data-pg-restored-0',
      'Service/pg-restored',
      'StatefulSet/pg-restored',
    ]);
    expect(deps.workloadWriter.objects.size).toBe(1);
  });

  it('restore --wait creates the objects and prints the restore time; a second one exits 6', async () => {
    const r = await cli('restore', ID, '--to', 'pg-restored', '-n', 'db', '--wait');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /statefulset\/pg-restored created\nrestore of pg-20260601020000-abcd into statefulset\/pg-restored ready in [\d.]+s/,
    );
    const again = await cli('restore', ID, '--to', 'pg-restored', '-n', 'db');
    expect(again.code).toBe(6);
    expect(again.stderr).toMatch(/hint: choose another target, or replace them \(their data is lost\) \(--to NAME or --replace\)/);
  });

  it('verify prints each check, records the result and exits 0; exit 1 when a check fails', async () => {
    const r = await cli('verify', ID, '-n', 'db');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /verification passed \(restored in [\d.]+s\)\n {2}ok {3}starts: .*\n {2}ok {3}amcheck: 150 b-tree indexes clean in 1 database\(s\)\n {2}ok {3}row-counts: 1 user tables, 7 rows/,
    );
    expect(JSON.parse(deps.snapshots.all()[0]!.annotations['pgbackup.io/verified']!)).toMatchObject({
      result: 'passed',
      indexesChecked: 150,
    });
    const failing = await cli('verify', ID, '-n', 'db', '--sql', 'SELECT false');
    expect(failing.code).toBe(1);
    expect(failing.stderr).toMatch(/failed verification: sql: /);
  });

  it('refuses a zero --timeout of every verb that waits, naming the flag (exit 2), before doing anything', async () => {
    for (const argv of [
      ['create', 'pg', '--timeout', '0'],
      ['create', 'pg', '--consistency-timeout', '0s'],
      ['restore', ID, '--to', 'pg-restored', '--timeout', '0'],
      ['verify', ID, '--timeout', '0m'],
    ]) {
      const flag = argv.find((a) => a.endsWith('timeout'))!;
      expect(await cli(argv[0]!, ...argv.slice(1))).toMatchObject({ code: 2, stderr: `error: ${flag} must be greater than 0\n` });
    }
    expect(deps.snapshots.all()).toHaveLength(1);
    expect(deps.workloadWriter.objects.size).toBe(1);
  });

  it('restore --replace asks for --yes without a terminal, as delete does, and changes nothing', async () => {
    await cli('restore', ID, '--to', 'pg-restored', '-n', 'db');
    const before = deps.workloadWriter.objects.size;
    const r = await cli('restore', ID, '--to', 'pg-restored', '-n', 'db', '--replace');
    expect(r).toMatchObject({ code: 1, stderr: 'error: confirmation required; re-run with --yes\n' });
    expect(deps.workloadWriter.objects.size).toBe(before);
  });

  it('SIGTERM during verify deletes the scratch restore before exiting 143, and records nothing', async () => {
    (deps.workloadWriter as core.WorkloadWriter).waitReady = (_ns, _sts, _n, options) =>
      new Promise<void>((_, reject) => options.signal?.addEventListener('abort', () => reject(options.signal?.reason as Error)));
    const running = cli('verify', ID, '-n', 'db');
    const scratch = () => [...deps.workloadWriter.objects.values()].filter((o) => o.kind === 'StatefulSet' && o.metadata.name !== 'pg');
    while (scratch().length === 0) await new Promise((r) => setTimeout(r, 10));
    process.emit('SIGTERM');
    const r = await running;
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/error: terminated: the scratch restore was deleted, nothing was recorded/);
    expect(scratch()).toEqual([]);
    expect(deps.snapshots.all()[0]!.annotations['pgbackup.io/verified']).toBeUndefined();
  });

  it('recover rolls back an in-place restore its record shows stopped early, then has nothing left to do (exit 0 both times)', async () => {
    await deps.workloadWriter.annotateStatefulSet('db', 'pg', {
      'pgbackup.io/in-place-restore': JSON.stringify({ backup: ID, step: 'stopping', replicas: 3, restoreReplicas: 1, claims: [] }),
    });
    await deps.workloadWriter.scale('db', 'pg', 0);
    const r = await cli('recover', 'pg', '-n', 'db');
    expect(r).toMatchObject({
      code: 0,
      stdout: `statefulset/pg: in-place restore of ${ID} rolled back onto the old volumes (it stopped at step stopping, before every restored claim existed)\n`,
    });
    expect((deps.workloadWriter.get('StatefulSet', 'db', 'pg')?.spec as { replicas: number }).replicas).toBe(3);
    const again = await cli('recover', 'pg', '-n', 'db', '-o', 'json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ kind: 'Recovery', namespace: 'db', statefulSet: 'pg', outcome: 'none' });
  });
});
