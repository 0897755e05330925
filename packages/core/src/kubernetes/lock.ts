import { randomBytes } from 'node:crypto';
import { CoordinationV1Api, type KubeConfig, PatchStrategy, type V1Lease, V1MicroTime, setHeaderOptions } from '@kubernetes/client-node';
import { Labels, MANAGED_BY } from '../contract.js';
import { conflict, isPgBackupError } from '../errors.js';
import type { BackupLock } from '../ports.js';
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

  async acquire(namespace: string, statefulSet: string, holderName: string, ttlSeconds: number) {
    const name = `pgbackup-${statefulSet}`.slice(0, 253);
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
    // Renewed while held, so a holder that dies (SIGKILL) blocks others for one short TTL only.
    const renewal = setInterval(
      () => {
        this.api
          .patchNamespacedLease(
            { namespace, name, body: { spec: { renewTime: new V1MicroTime() } } },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          )
          .catch(() => undefined);
      },
      (ttlSeconds * 1000) / 3,
    );
    renewal.unref();
    return {
      release: async () => {
        clearInterval(renewal);
        const current = await this.api.readNamespacedLease({ namespace, name }).catch(() => undefined);
        if (current?.spec?.holderIdentity === holder)
          await this.api
            .deleteNamespacedLease({ namespace, name, body: { preconditions: { resourceVersion: current.metadata?.resourceVersion } } })
            .catch(() => undefined);
      },
    };
  }
}
