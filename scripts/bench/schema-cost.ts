// What one build of the input and signal schemas costs: CPU and heap held per build. The workflow
// sandbox used to pay it in every run and every replay (it evaluated the schema module each time);
// it now builds them once per workflow thread (src/workflows/schemas.ts).
//   node --expose-gc --import tsx scripts/bench/schema-cost.ts [builds]
import { buildSchemas } from '../../src/shared/schemas';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc --import tsx scripts/bench/schema-cost.ts');
const builds = Number(process.argv[2] ?? 1000);
for (let i = 0; i < 200; i++) buildSchemas(); // JIT warm-up

const kept: unknown[] = [];
gc();
const heapBefore = process.memoryUsage().heapUsed;
const cpuBefore = process.cpuUsage();
for (let i = 0; i < builds; i++) kept.push(buildSchemas());
const cpu = process.cpuUsage(cpuBefore);
gc();
const heldKiB = (process.memoryUsage().heapUsed - heapBefore) / builds / 1024;
console.log(
  `${builds} builds: ${((cpu.user + cpu.system) / builds / 1000).toFixed(2)} ms CPU and ${heldKiB.toFixed(0)} KiB held per build (${kept.length} sets kept)`,
);
