import { AuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { SubjectAccessReviewer, UserInfo } from '../backendPorts.js';
import type { AccessCheck, AccessReviewer } from '../ports.js';
import { call } from './apiErrors.js';

/** Asks the API server what the caller may do (SelfSubjectAccessReview, as `kubectl auth can-i`). */
export class KubernetesAccessReviewer implements AccessReviewer {
  private readonly api: AuthorizationV1Api;

  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(AuthorizationV1Api);
  }

  review(checks: AccessCheck[]) {
    return Promise.all(
      checks.map(async (check) => {
        const review = await call('reviewing access (SelfSubjectAccessReview)', () =>
          this.api.createSelfSubjectAccessReview({
            body: {
              apiVersion: 'authorization.k8s.io/v1',
              kind: 'SelfSubjectAccessReview',
              spec: { resourceAttributes: resourceAttributes(check) },
            },
          }),
        );
        return { check, allowed: review.status?.allowed === true, reason: review.status?.reason || undefined };
      }),
    );
  }
}

const resourceAttributes = (check: AccessCheck) => ({
  namespace: check.namespace,
  verb: check.verb,
  group: check.group,
  resource: check.resource,
  subresource: check.subresource,
  name: check.name,
});

/** Asks the API server whether another user may do something (SubjectAccessReview; needs `create subjectaccessreviews`). */
export class KubernetesSubjectAccessReviewer implements SubjectAccessReviewer {
  private readonly api: AuthorizationV1Api;

  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(AuthorizationV1Api);
  }

  async review(user: UserInfo, check: AccessCheck): Promise<{ allowed: boolean; reason?: string }> {
    const review = await call('reviewing access (SubjectAccessReview)', () =>
      this.api.createSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: user.username,
            uid: user.uid,
            groups: user.groups,
            extra: user.extra,
            resourceAttributes: resourceAttributes(check),
          },
        },
      }),
    );
    return { allowed: review.status?.allowed === true && review.status?.denied !== true, reason: review.status?.reason || undefined };
  }
}
