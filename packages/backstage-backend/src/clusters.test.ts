import { describe, expect, it } from '@jest/globals';
import { mockServices } from '@backstage/backend-test-utils';
import { captureLogger } from './__fixtures__/world.js';
import { connectClusters, readClusterSettings } from './clusters.js';

describe('pgbackup.clusters config', () => {
  it('reads Kubernetes-plugin-style entries and skips a broken one without failing the others', () => {
    const config = mockServices.rootConfig({
      data: {
        pgbackup: {
          clusters: [
            {
              name: 'prod',
              url: 'https://k8s.example.com:6443',
              serviceAccountToken: 't',
              caData: 'Y2E=',
              defaultNamespace: 'databases',
              namespaces: ['databases'],
            },
            { name: 'broken', url: 'ftp://nowhere' },
          ],
        },
      },
    });
    const settings = readClusterSettings(config);
    expect(settings[0]).toMatchObject({
      name: 'prod',
      url: 'https://k8s.example.com:6443',
      serviceAccountToken: 't',
      namespaces: ['databases'],
    });
    const logger = captureLogger();
    const clusters = connectClusters(settings, logger);
    expect(clusters.map((c) => c.name)).toEqual(['prod']);
    expect(clusters[0]).toMatchObject({ defaultNamespace: 'databases' });
    expect(clusters[0]?.cache?.status().map((s) => s.resource)).toEqual([
      'volumesnapshots/databases',
      'statefulsets/databases',
      'cronjobs/databases',
    ]);
    expect(logger.lines).toEqual([
      expect.objectContaining({
        level: 'error',
        message: expect.stringMatching(/cluster "broken" is not usable: .*must start with https:\/\//),
      }),
    ]);
  });

  it('falls back to one cluster from the kubeconfig or in-cluster config when none is configured', () => {
    expect(readClusterSettings(mockServices.rootConfig({ data: {} }))).toEqual([{ name: 'default' }]);
  });
});
