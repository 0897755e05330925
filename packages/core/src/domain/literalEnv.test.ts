import { describe, expect, it } from '@jest/globals';
import { redactLiteralEnv, restoreLiteralEnv } from './literalEnv.js';

type Env = { name: string; value?: string; valueFrom?: unknown };
const sts = (env: Env[], init: Env[] = []) => ({
  metadata: { name: 'pg' },
  spec: { template: { spec: { initContainers: [{ name: 'init', env: init }], containers: [{ name: 'postgres', env }] } } },
});
const secretRef = { secretKeyRef: { name: 'pg', key: 'password' } };

describe('literal env', () => {
  it('drops every literal value (init containers too), keeps valueFrom references, and names what it dropped', () => {
    const original = sts(
      [
        { name: 'POSTGRES_PASSWORD', value: 's3cret' },
        { name: 'PGUSER', valueFrom: secretRef },
      ],
      [{ name: 'TOKEN', value: 't0ken' }],
    );
    const { redacted, names } = redactLiteralEnv(original);
    expect(JSON.stringify(redacted)).not.toMatch(/s3cret|t0ken/);
    expect(redacted.spec.template.spec.containers[0]!.env).toEqual([
      { name: 'POSTGRES_PASSWORD' },
      { name: 'PGUSER', valueFrom: secretRef },
    ]);
    expect(names).toEqual(['init/TOKEN', 'postgres/POSTGRES_PASSWORD']);
    // The input is left as it was.
    expect(original.spec.template.spec.containers[0]!.env[0]).toEqual({ name: 'POSTGRES_PASSWORD', value: 's3cret' });
  });

  it('a restore takes the redacted values from the live StatefulSet, same container and variable', () => {
    const { redacted, names } = redactLiteralEnv(
      sts([
        { name: 'POSTGRES_PASSWORD', value: 'old' },
        { name: 'A', valueFrom: secretRef },
      ]),
    );
    const live = sts([{ name: 'POSTGRES_PASSWORD', value: 'now' }]);
    const restored = restoreLiteralEnv(redacted, names, live, 'b1');
    expect(restored.spec.template.spec.containers[0]!.env).toEqual([
      { name: 'POSTGRES_PASSWORD', value: 'now' },
      { name: 'A', valueFrom: secretRef },
    ]);
    // A live variable moved to a Secret is taken as the reference.
    const moved = restoreLiteralEnv(redacted, names, sts([{ name: 'POSTGRES_PASSWORD', valueFrom: secretRef }]), 'b1');
    expect(moved.spec.template.spec.containers[0]!.env[0]).toEqual({ name: 'POSTGRES_PASSWORD', valueFrom: secretRef });
  });

  it('refuses, naming the variables, when the live StatefulSet is gone or lacks them', () => {
    const { redacted, names } = redactLiteralEnv(sts([{ name: 'POSTGRES_PASSWORD', value: 'x' }]));
    expect(() => restoreLiteralEnv(redacted, names, undefined, 'b1')).toThrow(
      /backup b1 recorded StatefulSet pg without the literal value of env postgres\/POSTGRES_PASSWORD .* no longer exists/,
    );
    expect(() => restoreLiteralEnv(redacted, names, sts([]), 'b1')).toThrow(/live StatefulSet pg has no such variable/);
    expect(restoreLiteralEnv(redacted, [], undefined, 'b1')).toBe(redacted);
  });
});
