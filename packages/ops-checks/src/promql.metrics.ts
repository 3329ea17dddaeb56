const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
  'atan2',
  'Inf',
  'NaN',
]);

/**
 * The metric names a PromQL expression selects. Label matchers, strings, range selectors,
 * grouping clauses and function names are not metric names; Grafana variables (`$__rate_interval`)
 * are dropped.
 */
export function metricNamesIn(expr: string): string[] {
  // Grafana's label_values(selector, label): only the selector names series.
  const labelValues = /^\s*label_values\(\s*(.*),\s*\w+\s*\)\s*$/.exec(expr);
  if (labelValues) return metricNamesIn(labelValues[1]!);
  if (/^\s*label_values\(\s*\w+\s*\)\s*$/.test(expr)) return [];
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?[\w:]+\}?/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const [, name, call] = match;
    if (!name || call || KEYWORDS.has(name)) continue;
    if (/^\d/.test(name)) continue;
    names.add(name);
  }
  return [...names];
}

/** The selectors tested by the `absent(...)` calls of an expression, without spaces: `up{service="booking"}`. */
export function absentSelectors(expr: string): string[] {
  return [...expr.matchAll(/(?<![\w:])absent\(\s*([a-zA-Z_:][\w:]*\s*(?:\{[^}]*\})?)\s*\)/g)].map(
    (match) => match[1]!.replace(/\s+/g, ''),
  );
}

/** One label matcher of a PromQL selector: `route!~"/healthz|/readyz"`. */
export interface LabelMatcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

/**
 * The label matchers of every selector of `metric` in an expression, one list per occurrence (an
 * empty list for the bare name). Double-quoted values only, as the rules file writes them.
 */
export function selectorsOf(expr: string, metric: string): LabelMatcher[][] {
  const name = metric.replace(/[:]/g, '\\:');
  const occurrences = expr.matchAll(
    new RegExp(`(?<![\\w:])${name}(?![\\w:])\\s*(\\{[^}]*\\})?`, 'g'),
  );
  return [...occurrences].map(([, braces]) => {
    const body = (braces ?? '{}').slice(1, -1);
    const matchers: LabelMatcher[] = [];
    const pattern = /\s*([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/y;
    let at = 0;
    while (at < body.length && body.slice(at).trim() !== '') {
      pattern.lastIndex = at;
      const match = pattern.exec(body);
      if (!match) throw new Error(`cannot parse the matchers {${body}} of ${metric}`);
      const [whole, label, op, raw] = match;
      matchers.push({
        label: label!,
        op: op as LabelMatcher['op'],
        value: JSON.parse(`"${raw}"`) as string,
      });
      at += whole.length;
    }
    return matchers;
  });
}

/** Whether a series with these labels is selected by the matchers (regexes anchored, as in PromQL). */
export function selects(
  matchers: readonly LabelMatcher[],
  labels: Record<string, string>,
): boolean {
  return matchers.every(({ label, op, value }) => {
    const actual = labels[label] ?? '';
    // op is '!~' in the default branch.
    switch (op) {
      case '=':
        return actual === value;
      case '!=':
        return actual !== value;
      case '=~':
        return new RegExp(`^(?:${value})$`).test(actual);
      default:
        return !new RegExp(`^(?:${value})$`).test(actual);
    }
  });
}
