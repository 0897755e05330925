// Prints bench/results.json as a Markdown table; with --readme also writes it into bench/README.md
// between the <!-- results --> markers.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = dirname(fileURLToPath(import.meta.url));
const r = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
const f = (x) => (x === null || x === undefined ? '—' : typeof x === 'number' ? String(x) : x);
const lines = [
  `Run ${r.date} (${r.machine}; kubectl ${r.kubectl}).`,
  '',
  '| benchmark | ours (median) | baseline (median) | ratio | goal | met | runs | p95 | notes |',
  '|---|---|---|---|---|---|---|---|---|',
];
for (const b of r.benchmarks) {
  const notes = [];
  if (b.oursPeakMiB !== undefined && !Number.isNaN(b.oursPeakMiB))
    notes.push(`peak ${b.oursPeakMiB} MiB (baseline ${f(b.baselinePeakMiB)})`);
  if (b.overheadSeconds !== undefined) notes.push(`overhead ${b.overheadSeconds} s`);
  if (b.apiServerCalls !== undefined)
    notes.push(
      `${b.requests} requests at ${b.rate}/s, ${b.apiServerCalls} API-server calls (${b.apiServerCallsPerRequest}/request; ${b.apiServerCallsOtherThanWatches ?? '?'} other than informer re-watches), non-2xx ${b.non2xx}`,
    );
  if (b.backupsDuringRuns !== undefined) notes.push(`${b.backupsDuringRuns} backups during ${b.runs}×${b.secondsPerRun} s`);
  if (b.databaseBytes !== undefined)
    notes.push(`database ${(b.databaseBytes / 2 ** 30).toFixed(2)} GiB, volume ${(b.volumeBytes / 2 ** 30).toFixed(2)} GiB`);
  if (b.note) notes.push(b.note);
  if (b.error) notes.push(`error: ${b.error.split('\n')[0]}`);
  lines.push(
    `| ${b.name} | ${f(b.ours)} ${b.unit} | ${f(b.baseline)} | ${b.ratio === null || b.ratio === undefined ? '—' : b.ratio + '×'} | ${b.goal} | ${b.met === undefined || b.goal.startsWith('none') ? '' : b.met ? 'yes' : '**no**'} | ${b.runs} | ${f(b.p95)} | ${notes.join('; ')} |`,
  );
}
const table = lines.join('\n');
console.log(table);
if (process.argv.includes('--readme')) {
  const p = join(dir, 'README.md');
  const readme = readFileSync(p, 'utf8');
  writeFileSync(p, readme.replace(/<!-- results -->[\s\S]*<!-- \/results -->/, `<!-- results -->\n${table}\n<!-- /results -->`));
}
