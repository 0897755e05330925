// The chart's alert rules: rendered as a PrometheusRule exactly where monitoring.coreos.com/v1 is served (with the
// `for:` overrides of monitoring.prometheusRule.for), each alert covered by manifests/test/alerts/pgbackup.rules.test.yaml,
// and both files under Prometheus' own promtool (`check rules`, `test rules`), Debian's 2.42 (tools/cluster/test/prometheus.ts).
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { PROMTOOL, requirePrometheus } from '../../tools/cluster/test/prometheus.js';
import { CHART, MANIFESTS, all, helm, helmTemplate, run } from './helpers.js';

const RULES_FILE = path.join(CHART, 'files/pgbackup.rules.yaml');
const TESTS_FILE = path.join(MANIFESTS, 'test/alerts/pgbackup.rules.test.yaml');

const RULES = parse(readFileSync(RULES_FILE, 'utf8')) as {
  groups: { rules: { alert: string; for?: string }[] }[];
};
const TESTS = parse(readFileSync(TESTS_FILE, 'utf8')) as {
  tests: { alert_rule_test: { eval_time: string; alertname: string; exp_alerts?: unknown[] }[] }[];
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

  it('monitoring.prometheusRule.for replaces the for: of the alerts it names, and only alert names and durations pass the schema', async () => {
    const [rule] = all(
      await helmTemplate([
        '--api-versions',
        'monitoring.coreos.com/v1/PrometheusRule',
        '--set',
        'monitoring.prometheusRule.for.PgBackupLate=30m',
        '--set',
        'monitoring.prometheusRule.for.PgBackupFailed=5m',
      ]),
      'PrometheusRule',
    );
    const expected = structuredClone(RULES);
    for (const r of expected.groups.flatMap((g) => g.rules)) {
      if (r.alert === 'PgBackupLate') r.for = '30m';
      if (r.alert === 'PgBackupFailed') r.for = '5m';
    }
    expect(rule!.spec).toEqual(expected);
    const schema = JSON.parse(readFileSync(path.join(CHART, 'values.schema.json'), 'utf8'));
    expect(schema.properties.monitoring.properties.prometheusRule.properties.for.propertyNames.enum).toEqual(
      RULES.groups.flatMap((g) => g.rules).map((r) => r.alert),
    );
    for (const [set, message] of [
      ['monitoring.prometheusRule.for.PgBackupLat=30m', "invalid propertyName 'PgBackupLat'"],
      [
        'monitoring.prometheusRule.for.PgBackupLate=30 minutes',
        "'/monitoring/prometheusRule/for/PgBackupLate': '30 minutes' does not match pattern",
      ],
    ]) {
      const r = await helm(['template', 'demo', CHART, '--set', set!]);
      expect({ set, code: r.code, schema: r.stderr.includes("values don't meet the specifications of the schema") }).toEqual({
        set,
        code: 1,
        schema: true,
      });
      expect(r.stderr).toContain(message);
    }
  });

  it('pass promtool check rules and promtool test rules (Prometheus 2.42)', async () => {
    requirePrometheus();
    const check = await run(PROMTOOL, ['check', 'rules', RULES_FILE]);
    expect({ code: check.code, stderr: check.stderr }).toEqual({ code: 0, stderr: '' });
    expect(check.stdout).toContain(`SUCCESS: ${RULES.groups.flatMap((g) => g.rules).length} rules found`);
    const test = await run(PROMTOOL, ['test', 'rules', TESTS_FILE]);
    expect({ code: test.code, stdout: test.stdout, stderr: test.stderr }).toEqual({
      code: 0,
      stdout: expect.stringContaining('SUCCESS'),
      stderr: '',
    });
  });

  it('fail under promtool when a rule does not parse or a rule test expects what the rule does not do', async () => {
    requirePrometheus();
    const dir = mkdtempSync(path.join(tmpdir(), 'pgbackup-rules-'));
    try {
      const broken = path.join(dir, 'broken.rules.yaml');
      writeFileSync(
        broken,
        readFileSync(RULES_FILE, 'utf8').replace('expr: pgbackup_backup_late_seconds > 0', 'expr: pgbackup_backup_late_seconds >'),
      );
      const check = await run(PROMTOOL, ['check', 'rules', broken]);
      expect({ code: check.code, stderr: check.stderr }).toEqual({ code: 1, stderr: expect.stringContaining('parse error') });
      // The late alert's test alone, expecting it to fire at 15 min, when it has been pending for 9 of its 10 minutes.
      const late = structuredClone(TESTS.tests.find((t) => t.alert_rule_test.some((c) => c.alertname === 'PgBackupLate'))!);
      late.alert_rule_test.find((c) => c.alertname === 'PgBackupLate' && c.exp_alerts?.length)!.eval_time = '15m';
      const wrong = path.join(dir, 'wrong.test.yaml');
      writeFileSync(wrong, stringify({ ...TESTS, rule_files: [RULES_FILE], tests: [late] }));
      const test = await run(PROMTOOL, ['test', 'rules', wrong]);
      expect({ code: test.code, output: test.stdout + test.stderr }).toEqual({
        code: 1,
        output: expect.stringContaining('alertname: PgBackupLate, time: 15m,'),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
