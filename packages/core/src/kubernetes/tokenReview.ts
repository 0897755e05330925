import { AuthenticationV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { TokenIdentity, TokenReviewer } from '../backendPorts.js';
import { call } from './apiErrors.js';

/** Asks the API server who a bearer token belongs to (needs `create tokenreviews`, e.g. system:auth-delegator). */
export class KubernetesTokenReviewer implements TokenReviewer {
  private readonly api: AuthenticationV1Api;

  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(AuthenticationV1Api);
  }

  async review(token: string, audiences?: string[]): Promise<TokenIdentity> {
    const review = await call('reviewing a bearer token', () =>
      this.api.createTokenReview({
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(audiences ? { audiences } : {}) } },
      }),
    );
    const status = review.status ?? {};
    return {
      authenticated: status.authenticated === true,
      username: status.user?.username,
      uid: status.user?.uid,
      groups: status.user?.groups,
      extra: status.user?.extra,
      audiences: status.audiences,
      error: status.error || undefined,
    };
  }
}
