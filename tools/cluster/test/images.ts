// The images of `npm run images` (tools/images/build.sh): built from their Dockerfiles and pushed to the local
// registry, cached (a run with nothing changed rebuilds nothing; a cold one takes many minutes).
import path from 'node:path';
import { MIN, ROOT, ok } from './kube.js';

export const BUILD_IMAGES = path.join(ROOT, 'tools/images/build.sh');

/** Image name (kubectl-pgbackup, pgbackup-api, postgres) → `<registry>/pgbackup/<name>@sha256:…`. */
export async function builtImages(): Promise<Record<string, string>> {
  const out = await ok('bash', [BUILD_IMAGES], { timeoutMs: 45 * MIN });
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((ref) => [ref.replace(/@.*/, '').replace(/^.*\//, ''), ref]),
  );
}
