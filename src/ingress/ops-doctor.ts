// The ops page's "Setup check": the doctor's report (the same checks and words as
// `dynamics-onboarding doctor`), run by the ingress with its own configuration. One run at a time,
// and a report is reused for a short while: reloading the page does not hammer Microsoft and Cyclr.
import type express from 'express';
import type { Request, RequestHandler, Response } from 'express';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { runDoctor, type DoctorReport } from '../doctor';
import { failures } from '../doctor/report';
import { layout, type PageContext } from './ops-pages';
import { escapeHtml as e } from './pages';

export const DOCTOR_PATH = '/ops/doctor';
/** How long a report is shown again instead of running the checks anew. */
const REUSE_MS = 30_000;

interface Run {
  report: DoctorReport;
  at: Date;
}

type Authed = Request & { ops: { ctx: PageContext } };

export function registerOpsDoctor(
  router: express.Router,
  deps: { client: Client; config: Config; requireOps: RequestHandler },
): void {
  let last: Run | undefined;
  let running: Promise<Run> | undefined;
  const check = (): Promise<Run> =>
    (running ??= runDoctor({
      config: deps.config,
      env: process.env,
      temporal: async () => deps.client,
      temporalTarget: `the ingress's Temporal connection`,
    })
      .then((report) => (last = { report, at: new Date() }))
      .finally(() => (running = undefined)));

  router.get(DOCTOR_PATH, deps.requireOps, async (req: Request, res: Response) => {
    const { ctx } = (req as Authed).ops;
    const fresh = last && Date.now() - last.at.getTime() < REUSE_MS && req.query.again === undefined;
    const run = fresh ? last! : await check();
    res.status(200).set('Cache-Control', 'no-store').type('html').send(doctorPage(ctx, run));
  });
}

export function doctorPage(ctx: PageContext, run: Run): string {
  const { report } = run;
  const bad = failures(report.checks).length;
  const rows = report.checks
    .map((c) => {
      const mark = c.ok ? 'ok' : c.skipped ? 'skipped' : 'failed';
      return `<tr class="check ${mark}"><td><span class="step ${mark === 'ok' ? 'verified' : mark === 'failed' ? 'failed' : ''}">${mark}</span></td><td>${e(c.group)}</td><td>${e(c.name)}</td><td>${e(c.found)}${!c.ok && c.fix ? `<p class="fix"><b>Fix:</b> ${e(c.fix)}</p>` : ''}</td></tr>`;
    })
    .join('\n');
  return layout(
    ctx,
    'Setup check',
    `<h1>Setup check</h1>
<p class="card ${bad ? 'error' : 'flash'}" id="doctor-verdict">${bad ? `${bad} check${bad === 1 ? '' : 's'} failed: each says what to fix.` : 'All checks passed.'}</p>
<p class="muted">The checks of <code>dynamics-onboarding doctor</code>, run by the ingress with its configuration at ${e(run.at.toISOString().replace('T', ' ').slice(0, 19))} UTC; workers configured otherwise: run <code>doctor</code> where they run. <a href="${DOCTOR_PATH}?again=1">Check again</a></p>
<table id="doctor"><thead><tr><th></th><th>Part</th><th>Check</th><th>Found</th></tr></thead><tbody>
${rows}
</tbody></table>`,
  );
}
