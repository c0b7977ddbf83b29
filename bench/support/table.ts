/**
 * Prints results as Markdown tables (readable in a terminal, pasted as-is into
 * docs/performance.md): ns/op, the ratio to the raw building block, and how dcontext compares
 * with each row, all from the same run. Targets print one PASS/MISS line each, with the
 * measured ratio exactly as measured.
 */

export interface Row {
  readonly label: string;
  readonly nsPerOp: number;
  /** Round-to-round spread in percent (see measure.ts). */
  readonly spread?: number;
  readonly note?: string;
}

export interface TableOptions {
  /** Label of the raw building block row: the `× raw` column divides by it. */
  readonly baseline: string;
  /** Label of the dcontext row: the `dcontext ÷ row` column divides it by each row. */
  readonly subject?: string;
  /** Header of the ratio-to-baseline column (default `× raw`). */
  readonly ratioHeader?: string;
}

export function formatNs(ns: number): string {
  if (ns < 10) return ns.toFixed(2);
  if (ns < 100) return ns.toFixed(1);
  return ns.toFixed(0);
}

export function formatRatio(ratio: number): string {
  return `${ratio.toFixed(2)}x`;
}

function find(rows: readonly Row[], label: string): Row {
  const row = rows.find((candidate) => candidate.label === label);
  if (row === undefined) throw new Error(`no row '${label}' in the table`);
  return row;
}

/** Prints one table; every ratio in it comes from `rows`, i.e. from the same run. */
export function printTable(title: string, rows: readonly Row[], options: TableOptions): void {
  const baseline = find(rows, options.baseline).nsPerOp;
  const subject = options.subject === undefined ? undefined : find(rows, options.subject).nsPerOp;
  const header = ['implementation', 'ns/op', '±', options.ratioHeader ?? '× raw'];
  if (subject !== undefined) header.push('dcontext ÷ row');
  header.push('note');
  const lines = rows.map((row) => {
    const cells = [
      row.label,
      formatNs(row.nsPerOp),
      row.spread === undefined ? '' : `${row.spread.toFixed(0)}%`,
      formatRatio(row.nsPerOp / baseline),
    ];
    if (subject !== undefined) cells.push(formatRatio(subject / row.nsPerOp));
    cells.push(row.note ?? '');
    return cells;
  });
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...lines.map((line) => line[column]!.length)),
  );
  const render = (cells: readonly string[]): string =>
    `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join(' | ')} |`;
  console.log(`\n#### ${title}\n`);
  console.log(render(header));
  console.log(
    `|${widths.map((width, column) => (column === 0 ? `:${'-'.repeat(width + 1)}` : `${'-'.repeat(width + 1)}:`)).join('|')}|`,
  );
  for (const line of lines) console.log(render(line));
  console.log('');
}

export type Comparison = '<=' | '<' | '>=';

/** Prints `PASS`/`MISS` for `measured comparison limit`; returns whether it passed. */
export function target(
  description: string,
  measured: number,
  comparison: Comparison,
  limit: number,
): boolean {
  const pass =
    comparison === '<='
      ? measured <= limit
      : comparison === '<'
        ? measured < limit
        : measured >= limit;
  console.log(
    `${pass ? 'PASS' : 'MISS'}  ${description}: ${formatRatio(measured)} (target ${comparison} ${formatRatio(limit)})`,
  );
  return pass;
}
