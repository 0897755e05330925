// PostgreSQL StatefulSets on the local cluster, for the integration tests: the manifest (the stand-in image by digest
// on the real node, run by its kubelet), waiting until ready, SQL through `kubectl exec`, the pod's address.
import { builtImages } from './images.js';
import { MIN, ON_REAL_NODE, describe, eventually, jsonpath, kubectl } from './kube.js';

export interface PostgresOptions {
  /** 1 by default. */
  replicas?: number;
  /** Size of each claim, 1Gi by default. */
  storage?: string;
  /** pg_wal on a second claim `wal` (POSTGRES_INITDB_WALDIR): a multi-volume StatefulSet. */
  walVolume?: boolean;
  /** A headless Service of the same name in front of it. */
  service?: boolean;
  /** POSTGRES_PASSWORD, `test` by default. */
  password?: string;
  /** Arguments of the server, e.g. ['-c', 'max_wal_size=64MB']. */
  args?: string[];
  /** Declares containerPort 5432. */
  containerPort?: boolean;
  /** The pods' terminationGracePeriodSeconds (namespace deletion waits about that long for them). */
  terminationGracePeriodSeconds?: number;
  /** The environment from this Secret (envFrom, keys POSTGRES_PASSWORD and PGDATA), not literal values: what a backup can record whole. Not with walVolume. */
  envSecret?: string;
  /** Labels of the StatefulSet itself. */
  labels?: Record<string, string>;
  /**
   * `postgres:15` on kwok's node, where pod-runner starts a host PostgreSQL by the image's name and kwok forwards a host
   * port: simulated, for a suite that has not moved to the real node yet. By default the stand-in image by digest
   * (`npm run images`) runs on the real node (its label and taint), where the kubelet runs it.
   */
  simulated?: boolean;
}

/** A bound for the first `npm run images` of a jest worker: a cold build takes many minutes, a cached one seconds. */
export const IMAGES_TIMEOUT = 46 * MIN;

let standIn: Promise<string> | undefined;
/** The stand-in PostgreSQL image by digest, built (cached) and pushed once per test file (jest re-imports per file; a cached run takes about a second). */
export function postgresImage(): Promise<string> {
  standIn ??= builtImages().then((images) => images['postgres']!);
  return standIn;
}

const flow = (o: Record<string, string>) =>
  `{${Object.entries(o)
    .map(([key, v]) => `${key}: ${v}`)
    .join(', ')}}`;

function claim(name: string, storage: string): string {
  return `
  - metadata: {name: ${name}}
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: pgbackup-local
      resources: {requests: {storage: ${storage}}}`;
}

/**
 * A PostgreSQL 15 StatefulSet `name` (pods `name-0`…, claims `data-name-0`…) on the pgbackup-local storage class.
 * Resolves the image on its first call in a worker (see postgresImage: call that in a beforeAll bounded by IMAGES_TIMEOUT).
 */
export async function postgresStatefulSet(name: string, opts: PostgresOptions = {}): Promise<string> {
  const image = opts.simulated ? 'postgres:15' : await postgresImage();
  const storage = opts.storage ?? '1Gi';
  const service = `
apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  clusterIP: None
  selector: {app: ${name}}
  ports: [{name: postgres, port: 5432}]
---`;
  const lines = (cond: boolean | undefined, text: string) => (cond ? text : '');
  return `${lines(opts.service, service)}
apiVersion: apps/v1
kind: StatefulSet
metadata: ${flow({ name, ...(opts.labels && { labels: flow(opts.labels) }) })}
spec:
  serviceName: ${name}
  replicas: ${opts.replicas ?? 1}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:${lines(
      !opts.simulated,
      `
      nodeSelector: ${JSON.stringify(ON_REAL_NODE.nodeSelector)}
      tolerations: ${JSON.stringify(ON_REAL_NODE.tolerations)}`,
    )}${lines(
      opts.terminationGracePeriodSeconds !== undefined,
      `
      terminationGracePeriodSeconds: ${opts.terminationGracePeriodSeconds}`,
    )}
      containers:
      - name: postgres
        image: ${image}${lines(
          opts.args !== undefined,
          `
        args: ${JSON.stringify(opts.args)}`,
        )}${
          opts.envSecret
            ? `
        envFrom: [{secretRef: {name: ${opts.envSecret}}}]`
            : `
        env:
        - {name: POSTGRES_PASSWORD, value: ${opts.password ?? 'test'}}
        - {name: PGDATA, value: /var/lib/postgresql/data/pgdata}`
        }${lines(
          opts.walVolume,
          `
        - {name: POSTGRES_INITDB_WALDIR, value: /var/lib/postgresql/wal/pg_wal}`,
        )}${lines(
          opts.containerPort,
          `
        ports: [{name: postgres, containerPort: 5432}]`,
        )}
        readinessProbe:
          exec: {command: [pg_isready, -U, postgres]}
          periodSeconds: 1
        volumeMounts:
        - {name: data, mountPath: /var/lib/postgresql/data}${lines(
          opts.walVolume,
          `
        - {name: wal, mountPath: /var/lib/postgresql/wal}`,
        )}
  volumeClaimTemplates:${claim('data', storage)}${lines(opts.walVolume, claim('wal', storage))}
`;
}

/** Waits until the StatefulSet has `replicas` ready replicas (1 by default); the failure shows its pods and claims. */
export async function waitStatefulSetReady(ns: string, name: string, opts: { replicas?: number; timeoutMs?: number } = {}): Promise<void> {
  const replicas = opts.replicas ?? 1;
  await eventually(
    `StatefulSet ${ns}/${name}: ${replicas} ready replicas`,
    opts.timeoutMs ?? 3 * MIN,
    async () => ((await jsonpath(ns, `statefulset/${name}`, '{.status.readyReplicas}')) === String(replicas) ? true : undefined),
    async () => (await kubectl(['get', 'pods,pvc,events', '-n', ns, '-o', 'wide'])).stdout + (await describe(ns, `pod/${name}-0`)),
  );
}

/** SQL in a pod through `kubectl exec` (the pod's PGHOST/PGPORT/PGUSER): rows of tab-separated fields. */
export async function podSql(ns: string, pod: string, sql: string): Promise<string[][]> {
  const r = await kubectl(
    ['exec', '-n', ns, pod, '--', 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-F', '\t', '-d', 'postgres', '-c', sql],
    {
      timeoutMs: 2 * MIN,
    },
  );
  if (r.code !== 0) throw new Error(`psql in ${ns}/${pod} exited ${r.code}: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'));
}

/** The host port kwok forwards a simulated pod's 5432 to. */
export async function hostPort(ns: string, pod: string): Promise<string> {
  return eventually(
    `PortForward of ${ns}/${pod}`,
    MIN,
    async () => (await jsonpath(ns, `portforward/${pod}`, '{.spec.forwards[0].target.port}')) || undefined,
  );
}

/** The pod's IP: the host reaches a pod on the real node there (the node's bridge, routed through the link to its namespace). */
export async function podIP(ns: string, pod: string): Promise<string> {
  return eventually(`the IP of ${ns}/${pod}`, MIN, async () => (await jsonpath(ns, `pod/${pod}`, '{.status.podIP}')) || undefined);
}
