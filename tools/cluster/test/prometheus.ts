// Prometheus for the tests, from Debian's `prometheus` package (server and promtool 2.42; .ci/run installs it with
// --no-install-recommends): promtool for the alert rules' unit tests, and a real server with a configuration and a data
// directory of its own on a free loopback port, started and stopped by the test, for a real scrape and real alerts.
// (promtool built from Prometheus' Go module took 26 min cold on 2 cores: far over CI's budget.)
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { eventually } from './kube.js';

export const PROMTOOL = '/usr/bin/promtool';
const PROMETHEUS = '/usr/bin/prometheus';

/** Fails at once, naming the package, when Debian's Prometheus is not installed. */
export function requirePrometheus(): void {
  for (const bin of [PROMETHEUS, PROMTOOL])
    if (!existsSync(bin)) throw new Error(`${bin} is missing: apt-get install --no-install-recommends prometheus (.ci/run does)`);
}

/** A loopback port nobody listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface ScrapeJob {
  job: string;
  /** host:port */
  target: string;
  /** Sent as `Authorization: Bearer …`. */
  bearerToken?: string;
}

export interface PrometheusOptions {
  /** The content of the one rules file (groups: …). */
  rules: unknown;
  scrape: ScrapeJob[];
  /** Scrape and rule evaluation interval, 1 s by default. */
  intervalSeconds?: number;
}

/** One Prometheus server; `api` reads its HTTP API (/api/v1/…). */
export class Prometheus {
  private output = '';

  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly url: string,
  ) {
    for (const stream of [child.stdout, child.stderr])
      stream?.on('data', (chunk: Buffer) => {
        this.output = (this.output + chunk.toString()).slice(-20_000);
      });
  }

  static async start(opts: PrometheusOptions): Promise<Prometheus> {
    requirePrometheus();
    const dir = mkdtempSync(path.join(tmpdir(), 'pgbackup-prometheus-'));
    const interval = `${opts.intervalSeconds ?? 1}s`;
    writeFileSync(path.join(dir, 'rules.yaml'), stringify(opts.rules));
    writeFileSync(
      path.join(dir, 'prometheus.yaml'),
      stringify({
        global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
        rule_files: [path.join(dir, 'rules.yaml')],
        scrape_configs: opts.scrape.map((s) => ({
          job_name: s.job,
          static_configs: [{ targets: [s.target] }],
          ...(s.bearerToken ? { authorization: { credentials: s.bearerToken } } : {}),
        })),
      }),
    );
    const address = `127.0.0.1:${await freePort()}`;
    const child = spawn(
      PROMETHEUS,
      [
        `--config.file=${path.join(dir, 'prometheus.yaml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=${address}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const prometheus = new Prometheus(child, dir, `http://${address}`);
    let exited: string | undefined;
    child.on('exit', (code, signal) => (exited = `exited (${code ?? signal})`));
    try {
      await eventually(
        'Prometheus to be ready',
        30_000,
        async () => {
          if (exited) throw new Error(`prometheus ${exited}`);
          return (await fetch(`${prometheus.url}/-/ready`)).status === 200 ? true : undefined;
        },
        async () => prometheus.output,
      );
    } catch (e) {
      await prometheus.stop();
      throw e;
    }
    return prometheus;
  }

  /** GET /api/v1/<path>: its `data`; throws with Prometheus' error otherwise. */
  async api<T>(pathAndQuery: string): Promise<T> {
    const res = await fetch(`${this.url}/api/v1/${pathAndQuery}`);
    const body = (await res.json()) as { status: string; data?: T; error?: string };
    if (body.status !== 'success') throw new Error(`GET /api/v1/${pathAndQuery}: ${res.status} ${body.error ?? ''}`);
    return body.data as T;
  }

  /** An instant query's vector. */
  async query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    return (
      await this.api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(`query?query=${encodeURIComponent(promql)}`)
    ).result;
  }

  /** SIGTERM (SIGKILL after 10 s), then the data directory goes. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exit = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
