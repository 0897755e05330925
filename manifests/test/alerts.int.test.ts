// The chart's alert rules: rendered as a PrometheusRule exactly where monitoring.coreos.com/v1 is served, and each
// alert covered by manifests/test/alerts/pgbackup.rules.test.yaml, which `npm run test:alerts` runs with promtool
// (built from Prometheus' Go module by `tools/cluster/build.sh promtool`; not in the default build: see its note).
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CHART, MANIFESTS, all, helmTemplate } from './helpers.js';

const RULES = parse(readFileSync(path.join(CHART, 'files/pgbackup.rules.yaml'), 'utf8')) as {
  groups: { rules: { alert: string }[] }[];
};
const TESTS = parse(readFileSync(path.join(MANIFESTS, 'test/alerts/pgbackup.rules.test.yaml'), 'utf8')) as {
  tests: { alert_rule_test: { alertname: string; exp_alerts?: unknown[] }[] }[];
};

describe('alert rules', () => {
  it('render as a PrometheusRule with exactly these rules where monitoring.coreos.com/v1 is served, and not elsewhere', async () => {
    expect(all(await helmTemplate(), 'PrometheusRule')).toEqual([]);
    const [rule, ...more] = all(await helmTemplate(['--api-versions', 'monitoring.coreos.com/v1/PrometheusRule']), 'PrometheusRule');
    expect(more).toEqual([]);
    expect(rule!.spec).toEqual(RULES);
    const off = await helmTemplate([
      '--api-versions',
      'monitoring.coreos.com/v1/PrometheusRule',
      '--set',
      'monitoring.prometheusRule.enabled=false',
    ]);
    expect(all(off, 'PrometheusRule')).toEqual([]);
  });

  it('each alert has a promtool test case that expects it to fire', () => {
    const cases = TESTS.tests.flatMap((t) => t.alert_rule_test);
    const alerts = RULES.groups.flatMap((g) => g.rules).map((r) => r.alert);
    expect(alerts.length).toBeGreaterThan(0);
    for (const alert of alerts)
      expect({ alert, fires: cases.some((c) => c.alertname === alert && (c.exp_alerts ?? []).length > 0) }).toEqual({ alert, fires: true });
  });
});
