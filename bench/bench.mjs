// pgbackup benchmarks against kubectl, measured side by side in one run (see bench/README.md).
// Run with `npm run bench` (bench/run.sh starts the local cluster if needed and builds the release).
// BENCH_ONLY=cli,status,list,create,pgbench,api,restore,frontend selects rows; BENCH_RUNS (default 10)
// sets the runs per timed command; BENCH_RESTORE_RUNS (default 10) the 1 GiB restores.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const KUBECONFIG = join(ROOT, '.cluster/kubeconfig');
const KUBECTL = join(ROOT, '.tools/bin/kubectl');
const RELEASE = join(ROOT, 'packages/kubectl-pgbackup/release');
const NODE = process.execPath;
const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const WARMUP = 2;
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : undefined;
const want = (row) => !ONLY || ONLY.has(row);
const RESULTS = join(ROOT, 'bench/results.json');
const TMP = mkdtempSync(join(tmpdir(), 'pgbackup-bench-'));
const hex = () => randomBytes(3).toString('hex');
// The release as built by run.sh, copied aside: another `npm run release` may rebuild release/ meanwhile.
spawnSync('cp', ['-a', RELEASE, join(TMP, 'release')]);
const SEA = join(TMP, 'release', `kubectl-pgbackup_linux_${process.arch === 'arm64' ? 'arm64' : 'amd64'}`, 'kubectl-pgbackup');
if (!existsSync(SEA)) throw new Error(`no single executable at ${SEA}: run npm run release -w kubectl-pgbackup`);
const ENV = { ...process.env, KUBECONFIG, NODE_OPTIONS: '', PGPASSWORD: 'bench', PGUSER: 'postgres' };

const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

// ---------- processes and statistics ----------
function sh(cmd, args, { input, allowFail = false, env = ENV, timeout = 600_000 } = {}) {
  const r = spawnSync(cmd, args, { input, env, encoding: 'utf8', maxBuffer: 1 << 30, timeout });
  if (r.status !== 0 && !allowFail) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return r.stdout;
}
const kubectl = (args, opts) => sh(KUBECTL, args, opts);

/** One whole-process run under /usr/bin/time: wall seconds (measured here) and peak RSS (MiB). */
function timed(cmd, args, { env = ENV, input } = {}) {
  const out = join(TMP, 'time.txt');
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', '-o', out, cmd, ...args], { env, input, encoding: 'utf8', maxBuffer: 1 << 30 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  const kb = Number(readFileSync(out, 'utf8').trim().split('\n').pop());
  return { wall, peakMiB: kb / 1024, stdout: r.stdout };
}

const sorted = (xs) => [...xs].sort((a, b) => a - b);
const quantile = (xs, q) => {
  const s = sorted(xs);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] : NaN;
};
const median = (xs) => {
  const s = sorted(xs);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const r3 = (x) => (x === null || x === undefined || Number.isNaN(x) ? x : Math.round(x * 1000) / 1000);

/**
 * Interleaved A/B: warm-up, then `runs` rounds of (ours, baseline) so drift hits both alike.
 * Returns {ours: samples[], base: samples[], oursMem, baseMem}.
 */
function ab(ours, base, runs = RUNS, warmup = WARMUP) {
  for (let i = 0; i < warmup; i++) {
    ours();
    base();
  }
  const o = [];
  const b = [];
  for (let i = 0; i < runs; i++) {
    o.push(ours());
    b.push(base());
  }
  return { o, b };
}

// ---------- results ----------
const results = existsSync(RESULTS) && ONLY ? JSON.parse(readFileSync(RESULTS, 'utf8')) : { benchmarks: [] };
results.machine = `${process.platform}-${process.arch}, ${(await import('node:os')).cpus().length} cores, node ${process.version}`;
// A partial run (BENCH_ONLY) keeps the date of the full run; each row has its own `at`.
if (!ONLY) results.date = new Date().toISOString();
results.kubectl = JSON.parse(kubectl(['version', '--client', '-o', 'json'])).clientVersion.gitVersion;
results.cli =
  'single executable: packages/kubectl-pgbackup/release/kubectl-pgbackup_<os>_<arch>/kubectl-pgbackup (npm run release -w kubectl-pgbackup)';
function record(row) {
  row.at = new Date().toISOString();
  const i = results.benchmarks.findIndex((b) => b.name === row.name);
  if (i >= 0) results.benchmarks[i] = row;
  else results.benchmarks.push(row);
  writeFileSync(RESULTS, JSON.stringify(results, null, 2) + '\n');
  log(
    `${row.name}: ours ${row.ours} ${row.unit}, baseline ${row.baseline ?? '—'}, ratio ${row.ratio ?? '—'}, goal ${row.goal}: ${row.met === undefined ? '' : row.met ? 'met' : 'MISSED'}`,
  );
}
/** A timed row: wall medians of ours and the baseline, ratio of medians. */
function timedRow(name, goal, maxRatio, { o, b }, extra = {}) {
  const ow = o.map((x) => x.wall);
  const bw = b.map((x) => x.wall);
  const ratio = median(ow) / median(bw);
  const row = {
    name,
    ours: r3(median(ow)),
    baseline: r3(median(bw)),
    ratio: r3(ratio),
    goal,
    unit: 's',
    runs: ow.length,
    median: r3(median(ow)),
    p95: r3(quantile(ow, 0.95)),
    baselineP95: r3(quantile(bw, 0.95)),
    oursPeakMiB: r3(Math.max(...o.map((x) => x.peakMiB))),
    baselinePeakMiB: r3(Math.max(...b.map((x) => x.peakMiB))),
    ...extra,
  };
  row.met = maxRatio === Infinity && extra.met === undefined ? undefined : ratio <= maxRatio && (extra.met ?? true);
  record(row);
  return row;
}

// ---------- cluster objects ----------
const cleanups = [];
const namespaces = [];
function createNamespace(prefix) {
  const ns = `${prefix}-${hex()}`;
  kubectl(['create', 'namespace', ns]);
  kubectl(['label', 'namespace', ns, 'pgbackup.io/bench=true']);
  namespaces.push(ns);
  return ns;
}
async function waitFor(what, fn, timeoutMs = 300_000, everyMs = 500) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
async function postgresStatefulSet(ns, name, storage = '1Gi') {
  kubectl(['apply', '-n', ns, '-f', '-'], {
    input: `apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  clusterIP: None
  selector: {app: ${name}}
  ports: [{name: postgres, port: 5432}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: ${name}}
spec:
  serviceName: ${name}
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
      - name: postgres
        image: postgres:15
        args: [-c, max_wal_size=256MB]
        env:
        - {name: POSTGRES_PASSWORD, value: bench}
        - {name: PGDATA, value: /var/lib/postgresql/data/pgdata}
        readinessProbe:
          exec: {command: [pg_isready, -U, postgres]}
        volumeMounts: [{name: data, mountPath: /var/lib/postgresql/data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: pgbackup-local
      resources: {requests: {storage: ${storage}}}
`,
  });
  await waitFor(
    `${name} ready`,
    () => kubectl(['get', 'statefulset', name, '-n', ns, '-o', 'jsonpath={.status.readyReplicas}'], { allowFail: true }) === '1',
  );
  const port = await waitFor(`${name}-0 port`, () =>
    kubectl(['get', 'portforward', `${name}-0`, '-n', ns, '-o', 'jsonpath={.spec.forwards[0].target.port}'], { allowFail: true }).trim(),
  );
  await waitFor(
    `${name}-0 accepting`,
    () => spawnSync('pg_isready', ['-h', '127.0.0.1', '-p', port, '-U', 'postgres'], { env: ENV }).status === 0,
  );
  return port;
}
const cli = (args) => sh(SEA, args);
const psql = (port, sql) => sh('psql', ['-XAtq', '-h', '127.0.0.1', '-p', port, '-U', 'postgres', '-d', 'postgres', '-c', sql]);

/** N labelled backup VolumeSnapshots cloned from a real one, created with a few parallel `kubectl create`. */
async function createBackupSnapshots(ns, template, n, sts = 'pg') {
  const t0 = Date.now();
  const base = new Date('2026-01-01T00:00:00Z').getTime();
  const items = [];
  for (let i = 0; i < n; i++) {
    const ts = new Date(base - i * 60_000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
    const id = `${sts}-${ts}-${(i % 1679616).toString(36).padStart(4, '0')}`;
    items.push({
      apiVersion: 'snapshot.storage.k8s.io/v1',
      kind: 'VolumeSnapshot',
      metadata: {
        name: `${id}-data-${sts}-0`,
        labels: { ...template.metadata.labels, 'pgbackup.io/backup': id, 'pgbackup.io/statefulset': sts },
        annotations: {
          ...template.metadata.annotations,
          'pgbackup.io/started-at': new Date(base - i * 60_000).toISOString(),
          'pgbackup.io/cut-at': new Date(base - i * 60_000 + 1000).toISOString(),
        },
      },
      // A claim that does not exist here: the snapshot controller records the error once and backs off.
      spec: {
        volumeSnapshotClassName: template.spec.volumeSnapshotClassName,
        source: { persistentVolumeClaimName: `bench-missing-${sts}` },
      },
    });
  }
  const chunks = 5;
  const per = Math.ceil(n / chunks);
  await Promise.all(
    Array.from({ length: chunks }, (_, c) => {
      const f = join(TMP, `snapshots-${ns}-${c}.json`);
      writeFileSync(f, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: items.slice(c * per, (c + 1) * per) }));
      return new Promise((resolve, reject) => {
        const p = spawn(KUBECTL, ['create', '-n', ns, '-f', f, '-o', 'name'], { env: ENV, stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        p.stderr.on('data', (d) => (err += d));
        p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kubectl create: ${err}`))));
      });
    }),
  );
  log(`${n} VolumeSnapshots in ${ns} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return items.map((i) => i.metadata.labels['pgbackup.io/backup']);
}

/** CPU seconds of the snapshot-controller process (its load while we create snapshots). */
function snapshotControllerCpu() {
  try {
    const pid = readFileSync(join(ROOT, '.cluster/pids/snapshot-controller.pid'), 'utf8').trim();
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

// ---------- rows ----------
let mainNs;
let mainPort;
let statusBackup;

async function rowCli() {
  const base = () => timed(KUBECTL, ['version', '--client']);
  timedRow(
    'cli --version (whole process, single executable)',
    '≤ 1.0× kubectl version --client',
    1.0,
    ab(() => timed(SEA, ['--version']), base, 20, 3),
    {
      baselineCommand: 'kubectl version --client',
    },
  );
  timedRow(
    'cli --help (whole process, single executable)',
    '≤ 1.0× kubectl version --client',
    1.0,
    ab(() => timed(SEA, ['--help']), base, 20, 3),
    {
      baselineCommand: 'kubectl version --client',
    },
  );
  // For reference: the npm/sh-launcher build (Node on PATH) and a verb's help.
  const launcher = join(TMP, 'release/kubectl-pgbackup/bin/kubectl-pgbackup');
  timedRow(
    'cli --version via the sh launcher + Node (npm/tarball build, for reference)',
    'none (reference)',
    Infinity,
    ab(() => timed(launcher, ['--version'], { env: { ...ENV, PGBACKUP_NODE: NODE } }), base),
    {
      baselineCommand: 'kubectl version --client',
    },
  );
}

async function setupMain() {
  if (mainNs) return;
  mainNs = createNamespace('pgbackup-bench');
  log(`namespace ${mainNs}: PostgreSQL StatefulSet pg`);
  mainPort = await postgresStatefulSet(mainNs, 'pg');
  sh('pgbench', ['-i', '-s', '2', '-q', '-h', '127.0.0.1', '-p', mainPort, '-U', 'postgres', 'postgres']);
  statusBackup = JSON.parse(cli(['create', 'pg', '-n', mainNs, '--wait', '--timeout', '5m', '-o', 'json'])).id;
  log(`backup ${statusBackup}`);
}

async function rowStatus() {
  await setupMain();
  timedRow(
    'status <backup>',
    '≤ 1.1× kubectl get volumesnapshots -l pgbackup.io/backup=<id> -o json',
    1.1,
    ab(
      () => timed(SEA, ['status', statusBackup, '-n', mainNs]),
      () => timed(KUBECTL, ['get', 'volumesnapshots', '-n', mainNs, '-l', `pgbackup.io/backup=${statusBackup}`, '-o', 'json']),
    ),
    { baselineCommand: 'kubectl get volumesnapshots -l pgbackup.io/backup=<id> -o json' },
  );
}

async function rowList() {
  await setupMain();
  const template = JSON.parse(kubectl(['get', 'volumesnapshots', '-n', mainNs, '-l', `pgbackup.io/backup=${statusBackup}`, '-o', 'json']))
    .items[0];
  const ns = createNamespace('pgbackup-bench-list');
  const cpu0 = snapshotControllerCpu();
  await createBackupSnapshots(ns, template, 5000);
  // Let the snapshot controller see them all once before timing (it records the missing claim and backs off).
  await new Promise((r) => setTimeout(r, 15_000));
  const controllerCpu = snapshotControllerCpu() - cpu0;
  const count = JSON.parse(cli(['list', '-n', ns, '-o', 'json'])).items.length;
  const res = ab(
    () => timed(SEA, ['list', '-n', ns, '-o', 'json']),
    () => timed(KUBECTL, ['get', 'volumesnapshots', '-n', ns, '-l', 'app.kubernetes.io/managed-by=kubectl-pgbackup', '-o', 'json']),
  );
  const peak = Math.max(...res.o.map((x) => x.peakMiB));
  timedRow(
    'list -o json, 5,000 backups',
    '≤ 1.0× kubectl get volumesnapshots -l app.kubernetes.io/managed-by=kubectl-pgbackup -o json; ≤ 150 MiB peak',
    1.0,
    res,
    {
      backups: count,
      peakGoalMiB: 150,
      met: peak <= 150,
      snapshotControllerCpuSeconds: r3(controllerCpu),
      baselineCommand: 'kubectl get volumesnapshots -l app.kubernetes.io/managed-by=kubectl-pgbackup -o json',
    },
  );
  if (!process.env.BENCH_KEEP) kubectl(['delete', 'namespace', ns, '--wait=false']);
  else log(`kept namespace ${ns} (BENCH_KEEP)`);
}

async function rowCreate() {
  await setupMain();
  const cls = 'pgbackup-bench-delay';
  const D = 2;
  if (!kubectl(['get', 'volumesnapshotclass', cls, '--ignore-not-found', '-o', 'name'])) {
    kubectl(['apply', '-f', '-'], {
      input: `apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshotClass\nmetadata: {name: ${cls}, labels: {pgbackup.io/bench: "true"}}\ndriver: pgbackup.csi.local\ndeletionPolicy: Delete\nparameters: {readyDelay: "${D}s"}\n`,
    });
    cleanups.push(() => kubectl(['delete', 'volumesnapshotclass', cls, '--ignore-not-found'], { allowFail: true }));
  }
  let n = 0;
  const bare = () => {
    const name = `bare-${n++}-${hex()}`;
    const t0 = process.hrtime.bigint();
    kubectl(['create', '-n', mainNs, '-f', '-'], {
      input: `apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshot\nmetadata: {name: ${name}}\nspec: {volumeSnapshotClassName: ${cls}, source: {persistentVolumeClaimName: data-pg-0}}\n`,
    });
    kubectl(['wait', '-n', mainNs, `volumesnapshot/${name}`, '--for=jsonpath={.status.readyToUse}=true', '--timeout=120s']);
    return { wall: Number(process.hrtime.bigint() - t0) / 1e9, peakMiB: NaN };
  };
  const res = ab(() => timed(SEA, ['create', 'pg', '-n', mainNs, '--snapshot-class', cls, '--wait', '--timeout', '2m']), bare, RUNS, 1);
  const overhead = median(res.o.map((x) => x.wall)) - median(res.b.map((x) => x.wall));
  timedRow(`create --wait, driver readyDelay ${D}s`, 'overhead ≤ 0.300 s over a bare VolumeSnapshot + kubectl wait', Infinity, res, {
    readyDelaySeconds: D,
    overheadSeconds: r3(overhead),
    met: overhead <= 0.3,
    baselineCommand: 'kubectl create -f <VolumeSnapshot> && kubectl wait --for=jsonpath={.status.readyToUse}=true',
    baselinePeakMiB: null,
  });
}

function pgbench(seconds) {
  const out = sh('pgbench', [
    '-c',
    '4',
    '-j',
    '2',
    '-T',
    String(seconds),
    '-n',
    '-h',
    '127.0.0.1',
    '-p',
    mainPort,
    '-U',
    'postgres',
    'postgres',
  ]);
  return Number(/tps = ([\d.]+)/.exec(out)[1]);
}
function pgbenchAsync(seconds) {
  return new Promise((resolve, reject) => {
    const p = spawn(
      'pgbench',
      ['-c', '4', '-j', '2', '-T', String(seconds), '-n', '-h', '127.0.0.1', '-p', mainPort, '-U', 'postgres', 'postgres'],
      { env: ENV },
    );
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => (code === 0 ? resolve(Number(/tps = ([\d.]+)/.exec(out)[1])) : reject(new Error(`pgbench exit ${code}`))));
  });
}
async function rowPgbench() {
  await setupMain();
  const seconds = 10;
  const rounds = Number(process.env.BENCH_PGBENCH_ROUNDS ?? 5);
  pgbench(3); // warm-up
  const without = [];
  const withBackups = [];
  let backups = 0;
  for (let i = 0; i < rounds; i++) {
    without.push(pgbench(seconds));
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        await new Promise((resolve) =>
          spawn(SEA, ['create', 'pg', '-n', mainNs, '--wait', '--timeout', '2m'], { env: ENV, stdio: 'ignore' }).on('exit', resolve),
        );
        backups++;
      }
    })();
    withBackups.push(await pgbenchAsync(seconds));
    stop = true;
    await loop;
  }
  const ratio = median(withBackups) / median(without);
  record({
    name: 'pgbench TPS while online backups run back to back',
    ours: r3(median(withBackups)),
    baseline: r3(median(without)),
    ratio: r3(ratio),
    goal: '≥ 0.97 of TPS without backups',
    unit: 'tps',
    runs: rounds,
    median: r3(median(withBackups)),
    p95: r3(quantile(withBackups, 0.05)), // the low tail: 5th percentile of TPS
    p95Note: 'for TPS, p95 is the 5th percentile (the slow tail)',
    secondsPerRun: seconds,
    backupsDuringRuns: backups,
    samplesWith: withBackups.map(r3),
    samplesWithout: without.map(r3),
    met: ratio >= 0.97,
  });
}

/** An HTTP proxy to the API server that counts every request (the API's only way to the cluster). */
async function countingProxy() {
  const kc = readFileSync(KUBECONFIG, 'utf8');
  const field = (k) => new RegExp(`${k}: (.+)`).exec(kc)[1].trim();
  const upstream = new URL(field('server'));
  const agent = new https.Agent({
    ca: readFileSync(field('certificate-authority')),
    cert: readFileSync(field('client-certificate')),
    key: readFileSync(field('client-key')),
    keepAlive: true,
  });
  const calls = [];
  const server = http.createServer((req, res) => {
    calls.push({ at: Date.now(), method: req.method, url: req.url });
    const up = https.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
        agent,
      },
      (r) => {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
    res.on('close', () => up.destroy());
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const kubeconfig = join(TMP, 'proxy-kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters: [{name: p, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\nusers: [{name: p, user: {}}]\ncontexts: [{name: p, context: {cluster: p, user: p}}]\ncurrent-context: p\n`,
  );
  return { calls, kubeconfig, close: () => server.close() };
}

async function rowApi() {
  await setupMain();
  const template = JSON.parse(kubectl(['get', 'volumesnapshots', '-n', mainNs, '-l', `pgbackup.io/backup=${statusBackup}`, '-o', 'json']))
    .items[0];
  const ns = createNamespace('pgbackup-bench-api');
  const ids = await createBackupSnapshots(ns, template, 1000);
  const proxy = await countingProxy();
  const port = 20000 + Math.floor(Math.random() * 20000);
  // BENCH_API_PROFILE=dir: the API server writes a CPU profile there (--cpu-prof) when it stops.
  const prof = process.env.BENCH_API_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_API_PROFILE] : [];
  const api = spawn(NODE, [...prof, join(ROOT, 'packages/backstage-backend/bin/pgbackup-api.js')], {
    env: {
      ...ENV,
      KUBECONFIG: proxy.kubeconfig,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      PGBACKUP_WATCH_NAMESPACES: ns,
      PGBACKUP_NAMESPACE: ns,
      // Every route but the probes needs a token (TokenReview by default): a static one, so no review call is measured.
      PGBACKUP_AUTH: 'static-token',
      PGBACKUP_API_TOKEN: 'bench',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  cleanups.push(() => api.kill('SIGKILL'));
  const base = `http://127.0.0.1:${port}`;
  const end = Date.now() + 120_000;
  for (;;) {
    const ok = await fetch(`${base}/health/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > end) throw new Error('API not ready');
    await new Promise((r) => setTimeout(r, 300));
  }
  const headers = { authorization: 'Bearer bench' };
  const probe = await (await fetch(`${base}/backups?namespace=${ns}`, { headers })).json();
  log(`API: /backups total ${probe.total}, page ${probe.items?.length}`);
  const { default: autocannon } = await import('autocannon');
  const duration = Number(process.env.BENCH_API_SECONDS ?? 15);
  const run = async (name, path, goalMs = 25) => {
    // Warm-up, then the measured window at a fixed 200 req/s.
    await autocannon({ url: base + path, headers, connections: 4, duration: 2, overallRate: 100 });
    const before = proxy.calls.length;
    const lat = [];
    const inst = autocannon({ url: base + path, headers, connections: 10, duration, overallRate: 200 });
    inst.on('response', (_c, _code, _bytes, ms) => lat.push(ms));
    const r = await inst;
    const apiCalls = proxy.calls.length - before;
    // Informers re-establish their watches now and then (the API server ends them): not caused by requests.
    const requestCalls = proxy.calls.slice(before).filter((c) => !/[?&]watch=(true|1)/.test(c.url)).length;
    const p99 = quantile(lat, 0.99);
    record({
      name,
      ours: r3(p99),
      baseline: null,
      ratio: null,
      goal: `p99 ≤ ${goalMs} ms at 200 req/s; 0 API-server calls per request`,
      unit: 'ms (p99)',
      runs: lat.length,
      median: r3(median(lat)),
      p95: r3(quantile(lat, 0.95)),
      p99: r3(p99),
      requests: r.requests.total,
      non2xx: r.non2xx,
      errors: r.errors,
      rate: r3(r.requests.total / duration),
      apiServerCalls: apiCalls,
      apiServerCallsPerRequest: r3(apiCalls / Math.max(1, r.requests.total)),
      apiServerCallUrls: proxy.calls.slice(before).map((c) => `${c.method} ${c.url}`),
      backups: ids.length,
      apiServerCallsOtherThanWatches: requestCalls,
      met: p99 <= goalMs && requestCalls === 0 && r.non2xx === 0,
    });
  };
  await run('API GET /backup/:id (1,000 backups)', `/backup/${ids[500]}?namespace=${ns}`);
  await run('API GET /backups (1,000 backups, default page)', `/backups?namespace=${ns}`);
  // A Prometheus scrape: every series computed from the cache (issue 18: p99 ≤ 20 ms, 0 API-server calls per scrape).
  await run('API GET /metrics (1,000 backups)', '/metrics', 20);
  api.kill('SIGTERM');
  await new Promise((r) => (api.exitCode === null ? api.on('exit', r) : r()));
  proxy.close();
  kubectl(['delete', 'namespace', ns, '--wait=false']);
}

async function rowRestore() {
  const ns = createNamespace('pgbackup-bench-restore');
  log(`namespace ${ns}: PostgreSQL with a 1 GiB database`);
  const port = await postgresStatefulSet(ns, 'big', '4Gi');
  const t0 = Date.now();
  sh('pgbench', ['-i', '-s', '80', '-I', 'dtG', '-h', '127.0.0.1', '-p', port, '-U', 'postgres', 'postgres']);
  psql(port, 'CHECKPOINT');
  const dbBytes = Number(psql(port, "SELECT pg_database_size('postgres')").trim());
  log(`1 GiB database: ${(dbBytes / 2 ** 30).toFixed(2)} GiB in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const id = JSON.parse(cli(['create', 'big', '-n', ns, '--wait', '--timeout', '10m', '-o', 'json'])).id;
  const pv = kubectl(['get', 'pvc', 'data-big-0', '-n', ns, '-o', 'jsonpath={.spec.volumeName}']);
  const handle = kubectl(['get', 'pv', pv, '-o', 'jsonpath={.spec.csi.volumeHandle}']);
  const volume = join(ROOT, '.cluster/csi/volumes', handle);
  const volBytes = Number(sh('du', ['-sb', volume]).split('\t')[0]);
  const runs = Number(process.env.BENCH_RESTORE_RUNS ?? RUNS);
  let n = 0;
  const ours = () => {
    const to = `big-r${n++}`;
    const r = timed(SEA, ['restore', id, '--to', to, '-n', ns, '--wait', '--timeout', '10m', '-o', 'json']);
    kubectl(['delete', 'statefulset', to, '-n', ns, '--wait=true']);
    kubectl(['delete', 'pvc', `data-${to}-0`, '-n', ns, '--wait=true']);
    return r;
  };
  const dst = join(ROOT, '.cluster', `bench-cp-${hex()}`);
  const base = () => {
    const r = timed('cp', ['-a', volume, dst]);
    rmSync(dst, { recursive: true, force: true });
    return r;
  };
  timedRow(
    'restore of a 1 GiB database (--wait: PostgreSQL answering)',
    '≤ 1.2× cp -a of the volume directory',
    1.2,
    ab(ours, base, runs, 1),
    {
      databaseBytes: dbBytes,
      volumeBytes: volBytes,
      baselineCommand: 'cp -a <volume directory> <same filesystem>',
    },
  );
}

async function rowFrontend() {
  const out = sh('npm', ['run', 'size', '-w', 'packages/backstage-plugin'], { env: { ...ENV, NODE_OPTIONS: undefined } });
  const m = /([\d.]+) KB minified, ([\d.]+) KB gzipped/.exec(out);
  const gz = Number(m[2]);
  record({
    name: 'frontend plugin bundle',
    ours: gz,
    baseline: null,
    ratio: null,
    goal: '≤ 120 KB gzipped',
    unit: 'KB gzipped',
    runs: 1,
    median: gz,
    p95: gz,
    minifiedKB: Number(m[1]),
    met: gz <= 120,
  });
}

// ---------- main ----------
let failed = false;
const rows = [
  ['cli', rowCli],
  ['status', rowStatus],
  ['create', rowCreate],
  ['pgbench', rowPgbench],
  ['api', rowApi],
  ['list', rowList],
  ['restore', rowRestore],
  ['frontend', rowFrontend],
];
process.on('SIGINT', () => {
  failed = true;
});
try {
  for (const [key, fn] of rows) {
    if (!want(key)) continue;
    log(`--- ${key}`);
    try {
      await fn();
    } catch (e) {
      failed = true;
      log(`${key} failed: ${e.stack ?? e}`);
      record({
        name: `${key} (error)`,
        ours: null,
        baseline: null,
        ratio: null,
        goal: '',
        unit: '',
        runs: 0,
        median: null,
        p95: null,
        error: String(e.message ?? e).slice(0, 500),
        met: false,
      });
    }
  }
} finally {
  for (const c of cleanups.reverse()) {
    try {
      c();
    } catch {
      // best effort
    }
  }
  // BENCH_KEEP=1 keeps the namespaces (for profiling by hand); delete them with -l pgbackup.io/bench=true.
  if (process.env.BENCH_KEEP) namespaces.length = 0;
  for (const ns of namespaces) kubectl(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found'], { allowFail: true });
  log(`deleting namespaces ${namespaces.join(' ')}`);
  for (const ns of namespaces) kubectl(['wait', '--for=delete', `namespace/${ns}`, '--timeout=300s'], { allowFail: true });
  rmSync(TMP, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
