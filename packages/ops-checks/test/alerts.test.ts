import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { absentSelectors } from '../src/promql.metrics.ts';
import { alertRulesFile, fromRoot } from '../src/repo.paths.ts';

interface Rule {
  alert: string;
  expr: string;
  for?: string;
}

const rules = (
  parse(fs.readFileSync(alertRulesFile, 'utf8')) as { groups: { rules: Rule[] }[] }
).groups.flatMap((g) => g.rules);
const services = fs.readdirSync(fromRoot('services'));

describe('availability alerts', () => {
  it('fire for every service whose scrape targets disappear, not only when they fail', () => {
    // `up == 0` needs a target: a deleted Deployment or a broken ServiceMonitor leaves none.
    const watched = rules.flatMap((rule) => absentSelectors(rule.expr).map((s) => ({ rule, s })));
    for (const service of services) {
      const match = watched.find(({ s }) => s === `up{service="${service}"}`);
      expect(match, `no absent(up{service="${service}"}) alert`).toBeDefined();
      expect(match!.rule.for, match!.rule.alert).toBeDefined();
    }
  });
});
