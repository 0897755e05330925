import { describe, expect, it } from '@jest/globals';
import { aStatefulSetManifest } from '../testing/index.js';
import { podTemplateEscalations, podTemplateGrants } from './podTemplateTrust.js';

type Pod = Record<string, any>;

/** The test StatefulSet with its pod spec changed by `edit`. */
function sts(edit: (pod: Pod) => void = () => undefined): object {
  const s = aStatefulSetManifest() as unknown as { spec: { template: { spec: Pod } } };
  edit(s.spec.template.spec);
  return s;
}

const hardened = (pod: Pod) => {
  pod.serviceAccountName = 'postgres';
  pod.securityContext = { runAsNonRoot: true, runAsUser: 999 };
  pod.containers[0].securityContext = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
};

describe('podTemplateEscalations', () => {
  it('finds nothing when the recorded template is the live one', () => {
    expect(podTemplateEscalations(sts(hardened), sts(hardened))).toEqual([]);
  });

  it('refuses another ServiceAccount, even the default one in place of the live one', () => {
    expect(
      podTemplateEscalations(
        sts((p) => (p.serviceAccountName = 'admin')),
        sts(),
      ),
    ).toEqual(['serviceAccountName admin']);
    expect(podTemplateEscalations(sts(), sts(hardened))).toContain('serviceAccountName default');
    expect(
      podTemplateEscalations(
        sts((p) => (p.serviceAccount = 'legacy')),
        sts(),
      ),
    ).toEqual(['serviceAccountName legacy']);
  });

  it('refuses privileges the live template does not have: privileged, added capabilities, escalation, root', () => {
    const recorded = sts((p) => {
      hardened(p);
      p.containers[0].securityContext = { privileged: true, capabilities: { add: ['SYS_ADMIN', 'NET_ADMIN'] } };
      p.securityContext = { runAsUser: 0, runAsNonRoot: false };
    });
    expect(podTemplateEscalations(recorded, sts(hardened))).toEqual([
      'container postgres: privileged',
      'container postgres: adds capability SYS_ADMIN',
      'container postgres: adds capability NET_ADMIN',
      'container postgres: allowPrivilegeEscalation',
      'container postgres: runAsUser 0',
      'container postgres: runAsNonRoot not true',
    ]);
  });

  it('refuses host namespaces and hostPath volumes, and counts init and ephemeral containers', () => {
    const recorded = sts((p) => {
      p.hostNetwork = true;
      p.hostPID = true;
      p.hostIPC = true;
      p.volumes = [
        { name: 'root', hostPath: { path: '/' } },
        { name: 'scratch', emptyDir: {} },
      ];
      p.initContainers = [{ name: 'init', securityContext: { privileged: true } }];
      p.ephemeralContainers = [{ name: 'debug', securityContext: { capabilities: { add: ['SYS_PTRACE'] } } }];
    });
    expect(podTemplateEscalations(recorded, sts())).toEqual([
      'hostNetwork',
      'hostPID',
      'hostIPC',
      'hostPath volume root (/)',
      'container init: privileged',
      'container init: allowPrivilegeEscalation',
      'container init: runAsNonRoot not true',
      'container debug: adds capability SYS_PTRACE',
      'container debug: allowPrivilegeEscalation',
      'container debug: runAsNonRoot not true',
    ]);
  });

  it('accepts a recorded template that grants less than the live one', () => {
    const live = sts((p) => {
      p.hostNetwork = true;
      p.containers[0].securityContext = { privileged: true };
    });
    expect(podTemplateEscalations(sts(), live)).toEqual([]);
  });

  it('takes a container its runAsUser and runAsNonRoot from the pod when it sets none', () => {
    expect(podTemplateGrants(sts((p) => (p.securityContext = { runAsUser: 0 })))).toContain('container postgres: runAsUser 0');
    expect(
      podTemplateGrants(
        sts((p) => {
          p.securityContext = { runAsUser: 0, runAsNonRoot: true };
          p.containers[0].securityContext = { runAsUser: 999 };
        }),
      ),
    ).not.toEqual(expect.arrayContaining(['container postgres: runAsUser 0']));
  });

  it('without a live StatefulSet, accepts only what a pod gets by default', () => {
    expect(podTemplateEscalations(sts(), undefined)).toEqual([]);
    expect(podTemplateEscalations(sts(hardened), undefined)).toEqual(['serviceAccountName postgres']);
    expect(
      podTemplateEscalations(
        sts((p) => (p.volumes = [{ name: 'docker', hostPath: { path: '/var/run/docker.sock' } }])),
        undefined,
      ),
    ).toEqual(['hostPath volume docker (/var/run/docker.sock)']);
  });
});
