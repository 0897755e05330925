import { randomBytes } from 'node:crypto';
import { CoordinationV1Api, type KubeConfig, type V1Lease, V1MicroTime } from '@kubernetes/client-node';
import { Labels, MANAGED_BY } from '../contract.js';
import { backupLeaseName } from '../domain/kubernetesPermissions.js';
import { conflict, isPgBackupError, unavailable } from '../errors.js';
import type { BackupLock, HeldLock } from '../ports.js';
import { call } from './apiErrors.js';

/**
 * One backup at a time per StatefulSet, through a coordination.k8s.io Lease named
 * `pgbackup-<statefulset>`. An expired Lease (its holder died) is taken over; the update carries
 * the resourceVersion, so two takers cannot both win.
 */
export class LeaseBackupLock implements BackupLock {
  private readonly api: CoordinationV1Api;

  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(CoordinationV1Api);
  }

  async acquire(namespace: string, statefulSet: string, holderName: string, ttlSeconds: number): Promise<HeldLock> {
    const name = backupLeaseName(statefulSet);
    // Unique per acquisition: two CLIs on one host must not release each other's Lease.
    const holder = `${holderName}#${randomBytes(3).toString('hex')}`;
    const now = new V1MicroTime();
    const spec = { holderIdentity: holder, leaseDurationSeconds: Math.ceil(ttlSeconds), acquireTime: now, renewTime: now };
    const lease: V1Lease = {
      metadata: { name, namespace, labels: { [Labels.managedBy]: MANAGED_BY, [Labels.statefulSet]: statefulSet } },
      spec,
    };
    try {
      await call(`creating Lease ${namespace}/${name}`, () => this.api.createNamespacedLease({ namespace, body: lease }));
    } catch (e) {
      if (!isPgBackupError(e, 'Conflict')) throw e;
      const current = await call(`reading Lease ${namespace}/${name}`, () => this.api.readNamespacedLease({ namespace, name }));
      const renewed = current.spec?.renewTime ? new Date(current.spec.renewTime).getTime() : 0;
      const expiresAt = renewed + (current.spec?.leaseDurationSeconds ?? 0) * 1000;
      if (current.spec?.holderIdentity && expiresAt > Date.now())
        throw conflict(
          `a backup of StatefulSet ${statefulSet} is already running (held by ${current.spec.holderIdentity} until ${new Date(expiresAt).toISOString()})`,
          {
            text: 'wait for it to finish, or let this backup wait for it',
            step: { operation: 'list', target: statefulSet, namespace },
            options: [{ option: 'lockWaitSeconds' }],
          },
          { object: { kind: 'StatefulSet', name: statefulSet, namespace } },
        );
      await call(`taking over expired Lease ${namespace}/${name}`, () =>
        this.api.replaceNamespacedLease({ namespace, name, body: { ...current, spec } }),
      ).catch((err) => {
        if (isPgBackupError(err, 'Conflict'))
          throw conflict(`another backup of StatefulSet ${statefulSet} started at the same moment`, 'retry later');
        throw err;
      });
    }
    // Renewed while held, so a holder that dies (SIGKILL) blocks others for one short TTL only. Each renewal
    // reads the Lease and replaces it only if it is still ours (the resourceVersion guards the replace).
    const lost = new AbortController();
    let renewedAt = Date.now();
    const renew = async () => {
      try {
        const current = await this.api.readNamespacedLease({ namespace, name });
        if (current.spec?.holderIdentity !== holder)
          return lost.abort(
            unavailable(
              `lost the backup Lease ${namespace}/${name}: it is held by ${current.spec?.holderIdentity ?? 'nobody'} now`,
              `see who runs a backup: kubectl get lease ${name} -n ${namespace} -o yaml`,
            ),
          );
        const renewed = { ...current, spec: { ...current.spec, renewTime: new V1MicroTime() } };
        await this.api.replaceNamespacedLease({ namespace, name, body: renewed });
        renewedAt = Date.now();
      } catch (e) {
        // Given up before the Lease expires, so no one else can hold it while this backup still works: at 2/3 of
        // its duration, the ratio of client-go's leader election (renewDeadline 10 s of leaseDuration 15 s), which
        // rides out an API server restart (14-22 s measured in faults.int) and still leaves a third in hand.
        const since = Math.round((Date.now() - renewedAt) / 1000);
        if (since * 1000 >= (ttlSeconds * 1000 * 2) / 3)
          lost.abort(
            unavailable(
              `lost the backup Lease ${namespace}/${name}: not renewed for ${since}s (${(e as Error).message})`,
              'check the connection to the API server, then retry the backup',
            ),
          );
      }
    };
    let renewing: Promise<void> = Promise.resolve();
    const renewal = setInterval(
      () => {
        renewing = renewing.then(renew);
        if (lost.signal.aborted) clearInterval(renewal);
      },
      (ttlSeconds * 1000) / 6,
    );
    renewal.unref();
    lost.signal.addEventListener('abort', () => clearInterval(renewal), { once: true });
    return {
      lost: lost.signal,
      release: async () => {
        clearInterval(renewal);
        await renewing;
        const current = await this.api.readNamespacedLease({ namespace, name }).catch(() => undefined);
        if (current?.spec?.holderIdentity === holder)
          await this.api
            .deleteNamespacedLease({ namespace, name, body: { preconditions: { resourceVersion: current.metadata?.resourceVersion } } })
            .catch(() => undefined);
      },
    };
  }
}
