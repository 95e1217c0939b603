// /healthz: the process serves HTTP. /readyz: it can do its work, i.e. Temporal answers.
import express from 'express';
import type { Client } from '@temporalio/client';

export function healthRouter(client: Client): express.Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  router.get('/readyz', async (_req, res) => {
    try {
      await client.withDeadline(Date.now() + 3000, () => client.workflowService.getSystemInfo({}));
      res.json({ ok: true, temporal: 'reachable' });
    } catch (err) {
      res.status(503).json({ ok: false, temporal: `unreachable: ${(err as Error).message}` });
    }
  });
  return router;
}
