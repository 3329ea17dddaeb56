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
