// `doctor`: checks, in order, Temporal, Microsoft, the shared app, Cyclr, the ingress and the keys;
// one line per check with what it found and, when it fails, the fix. Exit code 0 when all pass.
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { formatDoctorReport, runDoctor } from '../../doctor';
import { visibleLines } from '../../shared/terminal-text';
import { connectClient, describeTarget, temporalTarget } from '../../temporal';
import { formatJson } from '../format';

export function doctorCommand(program: Command): void {
  program
    .command('doctor')
    .description(
      'Check Temporal, Microsoft, the shared app, Cyclr, the ingress and the keys; print what each check found and the fix (exit code 1 when one fails)',
    )
    .option('--json', 'print the report as JSON')
    .action(async (o) => {
      const config = loadConfig();
      const target = temporalTarget();
      let client: Client | undefined;
      try {
        const report = await runDoctor({
          config,
          env: process.env,
          temporal: async () => (client = await connectClient(target)),
          temporalTarget: describeTarget(target),
        });
        // What services answered is outside text: shown with control characters escaped.
        console.log(o.json ? formatJson(report) : visibleLines(formatDoctorReport(report)));
        process.exitCode = report.ok ? 0 : 1;
      } finally {
        await client?.connection.close();
      }
    });
}
