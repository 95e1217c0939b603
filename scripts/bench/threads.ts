// CPU seconds per thread of the worker process (/proc/<pid>/task/<tid>/stat), so a phase says which
// thread does the work. On a machine with more cores than busy threads, one thread's CPU per
// onboarding, not the process's, sets the worker's ceiling.
import { readdirSync, readFileSync } from 'node:fs';
import { cpuSecondsOfStat } from './worker-process';

/**
 * tid -> [thread name, CPU seconds so far]. A thread that ends between listing and reading is
 * skipped; a process that has exited gives an empty sample.
 */
export type ThreadSample = Map<number, [string, number]>;

export function sampleThreads(pid: number): ThreadSample {
  const threads: ThreadSample = new Map();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return threads;
  }
  for (const tid of tids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue;
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    threads.set(Number(tid), [name, cpuSecondsOfStat(stat)]);
  }
  return threads;
}

export interface ThreadCpu {
  /** The main thread: activities, the SDK's task handling, the payload codec. */
  main: number;
  /** The threads running workflow code (the SDK's workflow thread pool). */
  workflow: number;
  /** Node's other threads: V8's garbage collector and compiler helpers, libuv's pool. */
  otherJs: number;
  /** Threads the SDK's Rust core names itself (tokio runtime and its workflow processing). */
  core: number;
}

/**
 * Splits the CPU used between two samples. Node names all its threads after the process ("node"),
 * so the workflow threads are told from V8's helpers by their use: they are the busiest
 * `workflowThreads` of them after the main thread (the pool runs every activation; each helper
 * used about a tenth of the workflow thread or less in the runs measured).
 */
export function threadCpu(
  pid: number,
  before: ThreadSample,
  after: ThreadSample,
  workflowThreads: number,
): ThreadCpu {
  const cpu: ThreadCpu = { main: 0, workflow: 0, otherJs: 0, core: 0 };
  const nodeThreads: number[] = [];
  for (const [tid, [name, seconds]] of after) {
    const used = seconds - (before.get(tid)?.[1] ?? 0);
    if (tid === pid) cpu.main += used;
    else if (name === 'node') nodeThreads.push(used);
    else cpu.core += used;
  }
  nodeThreads.sort((a, b) => b - a);
  nodeThreads.forEach((used, i) => (i < workflowThreads ? (cpu.workflow += used) : (cpu.otherJs += used)));
  return cpu;
}
