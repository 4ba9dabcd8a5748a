import { writeFileSync } from 'fs';
import { suiteTraces } from './src/suite';
const seed = Number(process.argv[2] ?? 1);
for (const t of suiteTraces(seed)) {
  const rows: string[] = [];
  for (let s = 0; s <= 3600; s += 5) rows.push(`${s},${(t as any).clientsAt(s).toFixed(3)}`);
  writeFileSync(`/tmp/s9/csv/${t.name}.s${seed}.csv`, rows.join('\n') + '\n');
}
