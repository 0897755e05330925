/**
 * `/metrics` in the Prometheus text format: core computes the values from each cluster's read cache
 * (no API request per scrape); prom-client only renders them, plus this server's request metrics.
 */
import { timingSafeEqual } from 'node:crypto';
import {
  BackupMetrics,
  type ClusterMetrics,
  type Clock,
  type MetricDefinition,
  type ReadCache,
  ServerMetrics,
  collectMetrics,
} from '@pgbackup/core';
import type { Request } from 'express';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { HttpProblem } from './problem.js';

/** A cluster whose cache the metrics read. */
export interface MeteredCluster {
  name: string;
  cache?: Pick<ReadCache, 'contents' | 'status' | 'apiRequests'>;
}

/** Who may scrape: anyone (the default: a scrape from inside the cluster), or whoever sends one of the tokens. */
export type MetricsAuth = { mode: 'open' } | { mode: 'bearer'; tokens: string[] };

const systemClock: Clock = { now: () => new Date() };

const gauge = (registry: Registry, d: MetricDefinition) =>
  new Gauge({ name: d.name, help: d.help, labelNames: [...d.labels], registers: [registry] });

export class MetricsEndpoint {
  private readonly registry = new Registry();
  private readonly backups: Record<keyof typeof BackupMetrics, Gauge>;
  private readonly cacheSynced: Gauge;
  private readonly cacheStale: Gauge;
  private readonly kubernetesRequests: Counter;
  private readonly httpRequests: Counter;
  private readonly httpDuration: Histogram;
  private rendering: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly clusters: MeteredCluster[],
    private readonly clock: Clock = systemClock,
  ) {
    this.backups = Object.fromEntries(Object.entries(BackupMetrics).map(([key, d]) => [key, gauge(this.registry, d)])) as Record<
      keyof typeof BackupMetrics,
      Gauge
    >;
    this.cacheSynced = gauge(this.registry, ServerMetrics.cacheSynced);
    this.cacheStale = gauge(this.registry, ServerMetrics.cacheStale);
    const k = ServerMetrics.kubernetesRequests;
    this.kubernetesRequests = new Counter({ name: k.name, help: k.help, labelNames: [...k.labels], registers: [this.registry] });
    const r = ServerMetrics.httpRequests;
    this.httpRequests = new Counter({ name: r.name, help: r.help, labelNames: [...r.labels], registers: [this.registry] });
    const h = ServerMetrics.httpDuration;
    this.httpDuration = new Histogram({
      name: h.name,
      help: h.help,
      labelNames: [...h.labels],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** One answered request; `route` is the route template (bounded label values), never the raw path. */
  observeRequest(method: string, route: string, code: number, seconds: number): void {
    this.httpRequests.inc({ method, route, code: String(code) });
    this.httpDuration.observe({ method, route }, seconds);
  }

  /** The exposition text: every cluster's metrics from its cache. Scrapes run one at a time (they share the gauges). */
  render(): Promise<string> {
    const next = this.rendering.then(() => this.renderNow());
    this.rendering = next.catch(() => undefined);
    return next;
  }

  private async renderNow(): Promise<string> {
    const results: ClusterMetrics[] = this.clusters.flatMap((c) => (c.cache ? [collectMetrics(c.name, c.cache, this.clock)] : []));
    for (const g of Object.values(this.backups)) g.reset();
    this.cacheSynced.reset();
    this.cacheStale.reset();
    this.kubernetesRequests.reset();
    for (const r of results) {
      for (const s of r.backups) this.backups[s.metric].set(s.labels, s.value);
      for (const c of r.cache) {
        this.cacheSynced.set({ cluster: r.cluster, resource: c.resource }, c.synced ? 1 : 0);
        this.cacheStale.set({ cluster: r.cluster, resource: c.resource }, c.staleSeconds);
      }
      this.kubernetesRequests.inc({ cluster: r.cluster }, r.kubernetesRequests);
    }
    return this.registry.metrics();
  }
}

/** The scrape's authentication: nothing when open, else a bearer token compared in constant time. */
export function authorizeScrape(auth: MetricsAuth, req: Request): void {
  if (auth.mode === 'open') return;
  const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
  const sent = Buffer.from(match?.[1] ?? '');
  if (!auth.tokens.some((t) => Buffer.byteLength(t) === sent.length && timingSafeEqual(Buffer.from(t), sent)))
    throw new HttpProblem(
      401,
      'Unauthorized',
      match ? 'the metrics token is not accepted' : '/metrics needs Authorization: Bearer <token>',
      {
        code: 'Unauthorized',
        hint: 'send the scrape token (Prometheus: authorization.credentials_file in the scrape config)',
      },
    );
}

/** The metrics authentication an environment or app-config asks for; refuses a bearer mode without tokens. */
export function metricsAuth(mode: string | undefined, tokens: string | string[] | undefined): MetricsAuth {
  const list = (Array.isArray(tokens) ? tokens : (tokens ?? '').split(',')).map((t) => t.trim()).filter(Boolean);
  if (mode === undefined || mode === 'open') return { mode: 'open' };
  if (mode !== 'bearer') throw new Error(`the metrics authentication must be open or bearer (got "${mode}")`);
  if (list.length === 0) throw new Error('metrics authentication bearer needs at least one token');
  return { mode: 'bearer', tokens: list };
}
