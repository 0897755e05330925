// The real node (issue 22; tools/cluster/node.sh): a kubelet with containerd + runc + CNI runs pods of the images that
// `npm run images` built, pulled from the local registry by digest. What the tests prove goes through the real parts:
// the image's own entrypoint and exit code, `kubectl logs/exec` and exec probes through the kubelet, env from a Secret,
// an init container, runAsUser, the projected ServiceAccount token that the CLI uses in-cluster to reach the API
// server, the pull error of an image the registry does not have, and PVCs of our CSI driver published into pods by the
// kubelet (NodePublishVolume), whose snapshots stop the containers' writers. Pods opt in (label + taint of node-real); the rest
// of the suite stays on kwok's node.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { builtImages } from './images.js';
import {
  MIN,
  ON_REAL_NODE,
  REAL_NODE,
  REAL_NODE_KEY as KEY,
  ROOT,
  apply,
  describe as describeObj,
  ensureClusterUp,
  eventually,
  jsonpath,
  k,
  kubectl,
  namespaceFor,
  ok,
} from './kube.js';

interface ContainerStatus {
  imageID: string;
  containerID?: string;
  state: { terminated?: { exitCode: number; reason: string }; waiting?: { reason: string; message?: string } };
}
interface Pod {
  metadata: { uid: string };
  spec: { nodeName?: string; volumes: { name: string; projected?: { sources: Record<string, unknown>[] } }[] };
  status: { phase: string; podIP?: string; hostIP?: string; containerStatuses?: ContainerStatus[] };
}

/** The mount points of this machine (the kubelet's and the driver's namespace) whose path contains `part`. */
const mountsWith = (part: string) =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point.includes(part));

describe('the real node', () => {
  beforeAll(ensureClusterUp, 5 * MIN);
  const ns = namespaceFor('real-node');
  let cli: string;
  beforeAll(async () => {
    cli = (await builtImages())['kubectl-pgbackup']!;
  }, 46 * MIN);

  /** Applies a pod whose spec asks for the real node (its label) and accepts it (its taint). */
  const applyPod = (name: string, spec: Record<string, unknown>) =>
    apply(
      ns(),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name },
        spec: {
          ...ON_REAL_NODE,
          terminationGracePeriodSeconds: 2,
          ...spec,
        },
      }),
    );
  const applyService = (name: string, spec: Record<string, unknown>) =>
    apply(ns(), JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec }));
  const getPod = async (name: string): Promise<Pod> => JSON.parse(await k(['get', 'pod', name, '-n', ns(), '-o', 'json'])) as Pod;
  const finished = (name: string) =>
    eventually(
      `pod ${name} finished`,
      3 * MIN,
      async () => {
        const pod = await getPod(name);
        return ['Succeeded', 'Failed'].includes(pod.status.phase) ? pod : undefined;
      },
      () => describeObj(ns(), `pod/${name}`),
    );

  it('is a node of its own: Ready, containerd, identity system:node:node-real, tainted for opt-in pods', async () => {
    const node = JSON.parse(await k(['get', 'node', REAL_NODE, '-o', 'json']));
    expect({
      ready: node.status.conditions.find((c: { type: string }) => c.type === 'Ready')?.status,
      runtime: node.status.nodeInfo.containerRuntimeVersion,
      kubelet: node.status.nodeInfo.kubeletVersion,
      taints: node.spec.taints,
      label: node.metadata.labels[KEY],
    }).toEqual({
      ready: 'True',
      runtime: expect.stringMatching(/^containerd:\/\//),
      kubelet: 'v1.36.3',
      taints: [{ key: KEY, value: 'true', effect: 'NoSchedule' }],
      label: 'true',
    });
    // The Node authorizer and NodeRestriction: the kubelet's identity may read its own node, not change another one.
    const asNode = ['--as', `system:node:${REAL_NODE}`, '--as-group', 'system:nodes'];
    expect((await kubectl(['auth', 'can-i', 'get', `node/${REAL_NODE}`, ...asNode])).stdout.trim()).toBe('yes');
    const other = await kubectl(['label', 'node', 'kwok-node-0', 'pgbackup.io/touched=yes', ...asNode]);
    expect({ code: other.code, err: other.stderr }).toEqual({ code: 1, err: expect.stringMatching(/forbidden/i) });
  });

  it(
    "runs the CLI image's own entrypoint by digest: its exit code and its log",
    async () => {
      await applyPod('version', { restartPolicy: 'Never', containers: [{ name: 'cli', image: cli, args: ['version'] }] });
      const pod = await finished('version');
      expect({
        node: pod.spec.nodeName,
        phase: pod.status.phase,
        exit: pod.status.containerStatuses?.[0]?.state.terminated?.exitCode,
        image: pod.status.containerStatuses?.[0]?.imageID,
      }).toEqual({ node: REAL_NODE, phase: 'Succeeded', exit: 0, image: expect.stringContaining(cli.replace(/^.*@/, '@')) });
      expect(await k(['logs', '-n', ns(), 'version'])).toMatch(/^kubectl-pgbackup v\d+\.\d+\.\d+ \(node v\d+\.\d+\.\d+, linux\/x64\)\n$/);
    },
    5 * MIN,
  );

  it(
    'runs a pod as the spec says: init container, env from a Secret, runAsUser, exec probe, exec exit codes, the ServiceAccount token in-cluster',
    async () => {
      await k(['create', 'secret', 'generic', 'cli', '-n', ns(), '--from-literal=word=s3cret']);
      await k(['create', 'serviceaccount', 'cli', '-n', ns()]);
      await k(['create', 'role', 'reader', '-n', ns(), '--verb=get,list,watch', '--resource=*.*']);
      await k(['create', 'rolebinding', 'cli-reader', '-n', ns(), '--role=reader', `--serviceaccount=${ns()}:cli`]);
      const work = [{ name: 'work', mountPath: '/work' }];
      await applyPod('shell', {
        serviceAccountName: 'cli',
        securityContext: { runAsUser: 1001, runAsGroup: 1001, runAsNonRoot: true },
        initContainers: [
          { name: 'prepare', image: cli, command: ['sh', '-c', 'echo "prepared by $(id -u)" > /work/init.txt'], volumeMounts: work },
        ],
        containers: [
          {
            name: 'main',
            image: cli,
            command: ['sh', '-c', 'cat /work/init.txt; echo "word=$WORD"; touch /tmp/ready; exec sleep 3600'],
            env: [{ name: 'WORD', valueFrom: { secretKeyRef: { name: 'cli', key: 'word' } } }],
            readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 1 },
            volumeMounts: work,
          },
        ],
        volumes: [{ name: 'work', emptyDir: {} }],
      });
      await eventually(
        'pod shell Ready on the real node (its exec probe)',
        3 * MIN,
        async () => ((await jsonpath(ns(), 'pod/shell', '{.status.conditions[?(@.type=="Ready")].status}')) === 'True' ? true : undefined),
        () => describeObj(ns(), 'pod/shell'),
      );
      const pod = await getPod('shell');
      expect({ node: pod.spec.nodeName, podIP: pod.status.podIP }).toEqual({
        node: REAL_NODE,
        podIP: expect.stringMatching(/^10\.244\.\d+\.\d+$/),
      });
      // The init container ran first, as the pod's user, into the shared emptyDir; the Secret's value is in the env.
      expect(await k(['logs', '-n', ns(), 'shell'])).toBe('prepared by 1001\nword=s3cret\n');
      const exit3 = await kubectl(['exec', '-n', ns(), 'shell', '-c', 'main', '--', 'sh', '-c', 'exit 3']);
      expect(exit3.code).toBe(3);
      expect((await k(['exec', '-n', ns(), 'shell', '-c', 'main', '--', 'id', '-u'])).trim()).toBe('1001');

      // The ServiceAccount token is a projected volume (the admission plugin's kube-api-access-*), and the CLI's in-cluster
      // client uses it: allowed in its namespace, forbidden elsewhere, as system:serviceaccount:<ns>:cli.
      expect(pod.spec.volumes.find((v) => v.name.startsWith('kube-api-access-'))?.projected?.sources).toContainEqual({
        serviceAccountToken: expect.objectContaining({ path: 'token' }),
      });
      const list = await kubectl(['exec', '-n', ns(), 'shell', '-c', 'main', '--', 'kubectl-pgbackup', 'list', '-n', ns(), '-o', 'json']);
      expect({ code: list.code, err: list.stderr }).toEqual({ code: 0, err: '' });
      expect(JSON.parse(list.stdout)).toMatchObject({ items: [] });
      const denied = await kubectl(['exec', '-n', ns(), 'shell', '-c', 'main', '--', 'kubectl-pgbackup', 'list', '-n', 'kube-system']);
      expect(denied.code).not.toBe(0);
      expect(denied.stderr).toContain(`system:serviceaccount:${ns()}:cli`);
    },
    5 * MIN,
  );

  it(
    "resolves cluster names through the node's CoreDNS: the kubernetes Service, a headless Service's pod by hostname; other names fail at once",
    async () => {
      // What a StatefulSet gives its pods (hostname + subdomain = the headless Service): PostgreSQL standbys and a WAL
      // archiver will find a primary as <pod>.<service>.<namespace>.svc.cluster.local.
      await applyService('db', { clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'pg', port: 5432 }] });
      const sleeper = (name: string, extra: Record<string, unknown> = {}) =>
        applyPod(name, { ...extra, containers: [{ name: 'main', image: cli, command: ['sleep', '3600'] }] });
      await sleeper('db-0', { hostname: 'db-0', subdomain: 'db' });
      await k(['label', 'pod', 'db-0', '-n', ns(), 'app=db']);
      await sleeper('client');
      const readyIP = (name: string) =>
        eventually(
          `pod ${name} Ready on the real node`,
          3 * MIN,
          async () => {
            const pod = await getPod(name);
            return (await jsonpath(ns(), `pod/${name}`, '{.status.conditions[?(@.type=="Ready")].status}')) === 'True'
              ? pod.status.podIP
              : undefined;
          },
          () => describeObj(ns(), `pod/${name}`),
        );
      const podIP = await readyIP('db-0');
      await readyIP('client');
      // From another pod (db-0's own /etc/hosts names itself): the names come from DNS.
      const inPod = (script: string) => kubectl(['exec', '-n', ns(), 'client', '--', 'sh', '-c', script]);
      const resolvConf = (await inPod('cat /etc/resolv.conf')).stdout;
      const node = await k(['get', 'node', REAL_NODE, '-o', 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}']);
      expect(resolvConf).toMatch(new RegExp(`^nameserver ${node.replace(/\./g, '\\.')}$`, 'm'));
      expect(resolvConf).toMatch(new RegExp(`^search ${ns()}\\.svc\\.cluster\\.local svc\\.cluster\\.local cluster\\.local\\b`, 'm'));

      const hosts = async (name: string) => (await inPod(`getent hosts ${name}`)).stdout.trim().split(/\s+/);
      expect(await hosts('kubernetes.default.svc.cluster.local')).toEqual(['10.0.0.1', 'kubernetes.default.svc.cluster.local']);
      // The EndpointSlice controller publishes the pod's hostname once it is Ready; CoreDNS follows by its watch.
      const fqdn = `db-0.db.${ns()}.svc.cluster.local`;
      await eventually(`${fqdn} to resolve in pod client`, MIN, async () => ((await hosts(fqdn))[0] === podIP ? true : undefined));
      expect(await hosts(fqdn)).toEqual([podIP, fqdn]);
      expect(await hosts('db-0.db')).toEqual([podIP, fqdn]); // through the search path, as from the pod's namespace
      expect(await hosts('db')).toEqual([podIP, `db.${ns()}.svc.cluster.local`]); // the headless Service: its pods

      // CoreDNS's own identity may list and watch what its kubernetes plugin reads, nothing more.
      const asDNS = ['--as', 'pgbackup-local:coredns'];
      const can = async (...args: string[]) => (await kubectl(['auth', 'can-i', ...args, ...asDNS])).stdout.trim();
      expect([
        await can('watch', 'endpointslices.discovery.k8s.io', '-A'),
        await can('list', 'services', '-A'),
        await can('get', 'services', '-n', ns()),
        await can('list', 'pods', '-A'),
        await can('list', 'secrets', '-A'),
      ]).toEqual(['yes', 'yes', 'no', 'no', 'no']);

      // Nothing forwards upstream: a name outside the cluster is refused at once, not after resolver timeouts.
      const outside = await inPod('t0=$(date +%s%N); getent hosts example.com; echo "exit=$? ms=$(( ($(date +%s%N) - t0) / 1000000 ))"');
      const [, exit, ms] = /exit=(\d+) ms=(\d+)/.exec(outside.stdout) ?? [];
      expect({ exit, fast: Number(ms) < 2000 }).toEqual({ exit: '2', fast: true });
    },
    5 * MIN,
  );

  it(
    "reaches a ClusterIP Service through the node's kube-proxy, from another pod and from the Service's own pod (hairpin); its rules stay in the node's network namespace",
    async () => {
      // busybox's httpd answers with the pod's name; localhost/busybox:local is imported by up.sh (build.sh nodeimages).
      await applyPod('web', {
        containers: [
          {
            name: 'main',
            image: 'localhost/busybox:local',
            imagePullPolicy: 'Never',
            command: ['sh', '-c', 'mkdir -p /tmp/www && hostname > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www'],
            readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
          },
        ],
      });
      await k(['label', 'pod', 'web', '-n', ns(), 'app=web']);
      await applyService('web', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] });
      await applyPod('web-client', {
        containers: [{ name: 'main', image: 'localhost/busybox:local', imagePullPolicy: 'Never', command: ['sleep', '3600'] }],
      });
      const clusterIP = await jsonpath(ns(), 'service/web', '{.spec.clusterIP}');
      expect(clusterIP).toMatch(/^10\.0\.0\.\d+$/);
      // busybox's nc (its static wget crashes in getaddrinfo here): the response's last line is the body.
      const get = async (pod: string, host: string) =>
        (await kubectl(['exec', '-n', ns(), pod, '--', 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${host} 80 | tail -1`]))
          .stdout;
      // kube-proxy programs the Service once its endpoint is Ready.
      await eventually(
        `${clusterIP}:80 from pod web-client`,
        2 * MIN,
        async () => ((await get('web-client', clusterIP)) === 'web\n' ? true : undefined),
        () => describeObj(ns(), 'pod/web'),
      );
      expect(await get('web-client', `web.${ns()}.svc.cluster.local`)).toBe('web\n');
      expect(await get('web-client', 'web')).toBe('web\n');
      expect(await get('web', clusterIP)).toBe('web\n'); // hairpin: the Service's own pod through it

      // The rules are in the node's own network namespace (tools/cluster/node.sh), not the machine's: a second clone's
      // kube-proxy cannot rewrite them.
      const node = await k(['get', 'node', REAL_NODE, '-o', 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}']);
      const netns = `/var/run/netns/pgbackup-${node.split('.')[2]}`;
      const comment = `${ns()}/web cluster IP`;
      expect((await ok('nsenter', [`--net=${netns}`, 'iptables-save', '-t', 'nat'])).includes(comment)).toBe(true);
      expect((await ok('iptables-save', ['-t', 'nat'])).includes(comment)).toBe(false);
    },
    5 * MIN,
  );

  it(
    'an image that cannot be pulled shows ErrImagePull/ImagePullBackOff in the pod status',
    async () => {
      const missing = `${cli.replace(/\/pgbackup\/.*$/, '')}/pgbackup/no-such-image@sha256:${'0'.repeat(64)}`;
      await applyPod('missing', { containers: [{ name: 'c', image: missing }] });
      const waiting = await eventually(
        'pod missing waiting on its image pull',
        2 * MIN,
        async () => {
          const w = (await getPod('missing')).status.containerStatuses?.[0]?.state.waiting;
          return w && ['ErrImagePull', 'ImagePullBackOff'].includes(w.reason) ? w : undefined;
        },
        () => describeObj(ns(), 'pod/missing'),
      );
      expect(waiting.message).toContain('no-such-image');
    },
    3 * MIN,
  );

  describe('a PVC of our StorageClass in pods on the real node', () => {
    const claim = (name: string, snapshot?: string) =>
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name },
        spec: {
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: '64Mi' } },
          ...(snapshot ? { dataSource: { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: snapshot } } : {}),
        },
      });
    /** A pod on the real node with claim `pvc` at /data, running `script`; resolves when it is Ready, with its start time. */
    const podWithClaim = async (name: string, pvc: string, script: string) => {
      const t0 = Date.now();
      await applyPod(name, {
        containers: [{ name: 'main', image: cli, command: ['sh', '-c', script], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: pvc } }],
      });
      await eventually(
        `pod ${name} Ready with claim ${pvc}`,
        3 * MIN,
        async () =>
          (await jsonpath(ns(), `pod/${name}`, '{.status.conditions[?(@.type=="Ready")].status}')) === 'True' ? true : undefined,
        () => describeObj(ns(), `pod/${name}`),
      );
      return { pod: await getPod(name), readyMs: Date.now() - t0 };
    };
    const sh = async (pod: string, script: string) => (await k(['exec', '-n', ns(), pod, '--', 'sh', '-c', script])).trim();
    /** Lines of /data/a and /data/b and the last number in each: the writer appends n to a, then n to b. */
    const counts = async (pod: string) => {
      const [a, b, lastA, lastB] = (await sh(pod, 'wc -l < /data/a; wc -l < /data/b; tail -n1 /data/a; tail -n1 /data/b'))
        .split('\n')
        .map(Number);
      return { a: a!, b: b!, lastA: lastA!, lastB: lastB! };
    };
    const deletePod = async (name: string) => {
      const uid = (await getPod(name)).metadata.uid;
      await k(['delete', 'pod', name, '-n', ns(), '--wait=true', '--timeout=90s'], { timeoutMs: 100_000 });
      return uid;
    };

    it(
      "mounts it for real: a snapshot taken while a container writes stops the container's writer (point in time), restores into a second pod, data survives the pod, nothing stays mounted",
      async () => {
        await apply(ns(), claim('data'));
        // The writer's cwd is the volume as the container sees it (/data): the driver finds it through the container's mounts.
        const writer = await podWithClaim('writer', 'data', 'cd /data && i=0; while :; do i=$((i+1)); echo $i >> a; echo $i >> b; done');
        expect(writer.pod.spec.nodeName).toBe(REAL_NODE);
        const pvName = await jsonpath(ns(), 'pvc/data', '{.spec.volumeName}');
        const handle = (await k(['get', 'pv', pvName, '-o', 'jsonpath={.spec.csi.volumeHandle}'])).trim();
        // Published by the kubelet through our Node service under the pod's directory, and the driver is in CSINode.
        expect(mountsWith(`/pods/${writer.pod.metadata.uid}/volumes/kubernetes.io~csi/${pvName}/mount`)).toHaveLength(1);
        const csiNode = JSON.parse(await k(['get', 'csinode', REAL_NODE, '-o', 'json'])) as {
          spec: { drivers: { name: string; nodeID: string }[] };
        };
        expect(csiNode.spec.drivers).toContainEqual(expect.objectContaining({ name: 'pgbackup.csi.local', nodeID: REAL_NODE }));

        await eventually('the writer to write 2000 lines', MIN, async () => ((await counts('writer')).b >= 2000 ? true : undefined));
        const before = await counts('writer');
        const t0 = Date.now();
        await apply(
          ns(),
          JSON.stringify({
            apiVersion: 'snapshot.storage.k8s.io/v1',
            kind: 'VolumeSnapshot',
            metadata: { name: 'cut' },
            spec: { source: { persistentVolumeClaimName: 'data' } },
          }),
        );
        await eventually(
          'VolumeSnapshot cut readyToUse',
          2 * MIN,
          async () => ((await jsonpath(ns(), 'volumesnapshot/cut', '{.status.readyToUse}')) === 'true' ? true : undefined),
          () => describeObj(ns(), 'volumesnapshot/cut'),
        );
        const snapshotMs = Date.now() - t0;
        const after = await counts('writer');

        // The driver stopped the container's process (named with its container) while it copied the volume.
        const containerID = writer.pod.status.containerStatuses?.[0]?.containerID?.replace(/^containerd:\/\//, '') ?? '';
        expect(containerID).toMatch(/^[0-9a-f]{64}$/);
        const freezes = readFileSync(path.join(ROOT, '.cluster/logs/pgbackup-csi.log'), 'utf8')
          .split('\n')
          .filter((line) => line.includes(' froze ') && line.includes(`/volumes/${handle} `));
        expect(freezes.at(-1)).toMatch(
          new RegExp(`froze [1-9]\\d* processes \\[.*\\d+ sh \\(container ${containerID.slice(0, 12)}\\).*\\] for `),
        );

        // Restored into a second pod: one instant of the writer (b has a's lines or one fewer, every line whole),
        // between what the writer had before the snapshot and after it.
        await apply(ns(), claim('restored', 'cut'));
        const reader = await podWithClaim('reader', 'restored', 'exec sleep 3600');
        const cut = await counts('reader');
        expect({ aMinusB: cut.a - cut.b <= 1 && cut.a >= cut.b, whole: cut.lastA === cut.a && cut.lastB === cut.b }).toEqual({
          aMinusB: true,
          whole: true,
        });
        expect(cut.a).toBeGreaterThanOrEqual(before.a);
        expect(cut.a).toBeLessThanOrEqual(after.a);

        // The data outlives the pod: a new pod on the same claim sees at least what the writer had written.
        await sh('writer', 'true');
        const last = await counts('writer');
        const writerUid = await deletePod('writer');
        expect(mountsWith(writerUid)).toEqual([]);
        const again = await podWithClaim('again', 'data', 'exec sleep 3600');
        expect((await counts('again')).a).toBeGreaterThanOrEqual(last.a);

        // Unpublished when the pods go: no mount of theirs is left on the node.
        const uids = [await deletePod('again'), await deletePod('reader')];
        expect(uids.flatMap(mountsWith)).toEqual([]);
        process.stdout.write(
          `real node volumes: writer Ready ${writer.readyMs} ms, reader ${reader.readyMs} ms, again ${again.readyMs} ms; snapshot readyToUse in ${snapshotMs} ms; ${freezes.at(-1)}\n`,
        );
      },
      8 * MIN,
    );
  });
});
