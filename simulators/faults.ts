// Fault injection: one express middleware that may answer, delay or drop a matching request
// before (or after) the real handler runs. The service handlers know nothing about it.
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import type { Service, SimContext } from './context.js';
import { defaultFaultBody } from './errors.js';

export const faultSpecSchema = z.object({
  match: z
    .object({
      service: z.enum(['identity', 'graph', 'cyclr-api', 'cyclr-app']).optional(),
      method: z.string().min(1).optional(),
      path: z
        .string()
        .optional()
        .refine((p) => {
          if (p === undefined) return true;
          try {
            new RegExp(p);
            return true;
          } catch {
            return false;
          }
        }, 'path must be a valid regular expression'),
    })
    .default({}),
  times: z.number().int().min(-1).default(1),
  /** Chance (0..1] that a matching request is hit; a miss consumes nothing (soak tests: random faults). */
  probability: z.number().gt(0).max(1).default(1),
  action: z.discriminatedUnion('type', [
    // The service's own throttling answer: 429 with Retry-After (learn.microsoft.com/graph/throttling)
    // and, for Graph, the identity and access service's x-ms-throttle-* headers
    // (learn.microsoft.com/graph/throttling-limits).
    z.object({
      type: z.literal('throttle'),
      retryAfterSeconds: z.number().int().min(0).max(600).default(2),
    }),
    z.object({
      type: z.literal('status'),
      status: z.number().int().min(100).max(599),
      headers: z.record(z.string(), z.string()).optional(),
      body: z.unknown().optional(),
    }),
    z.object({
      type: z.literal('delay'),
      ms: z.number().int().min(0).max(600_000),
      when: z.enum(['before', 'after']).default('before'),
    }),
    z.object({ type: z.literal('drop'), when: z.enum(['before', 'after']).default('before') }),
  ]),
});

export type FaultSpec = z.infer<typeof faultSpecSchema>;

export interface Fault extends FaultSpec {
  id: string;
  /** Remaining applications; -1 = forever. */
  remaining: number;
  hits: number;
}

export class Faults {
  private list: Fault[] = [];
  private seq = 0;

  add(spec: FaultSpec): Fault {
    const fault: Fault = { ...spec, id: `fault-${++this.seq}`, remaining: spec.times, hits: 0 };
    this.list.push(fault);
    return fault;
  }

  all(): Fault[] {
    return this.list;
  }

  clear(): void {
    this.list = [];
  }

  remove(id: string): boolean {
    const before = this.list.length;
    this.list = this.list.filter((f) => f.id !== id);
    return this.list.length !== before;
  }

  /** The first armed fault matching this request (consumes one use). */
  private take(service: Service, method: string, path: string): Fault | undefined {
    const f = this.list.find(
      (x) =>
        x.remaining !== 0 &&
        (!x.match.service || x.match.service === service) &&
        (!x.match.method || x.match.method.toUpperCase() === method.toUpperCase()) &&
        (!x.match.path || new RegExp(x.match.path).test(path)) &&
        (x.probability >= 1 || Math.random() < x.probability),
    );
    if (!f) return undefined;
    if (f.remaining > 0) f.remaining--;
    f.hits++;
    return f;
  }

  middleware(sim: SimContext) {
    return (req: Request, res: Response, next: NextFunction): void => {
      const service = res.locals.service as Service | undefined;
      if (!service) return next();
      const fault = this.take(service, req.method, String(res.locals.subPath));
      if (!fault) return next();
      const action = fault.action;
      switch (action.type) {
        case 'throttle': {
          res.set('Retry-After', String(action.retryAfterSeconds));
          if (service === 'graph') {
            res.set('x-ms-throttle-limit-percentage', '1.8');
            res.set('x-ms-throttle-scope', 'Tenant_Application/ReadWrite/sim-graph-admin-client/partner');
            res.set('x-ms-throttle-information', 'ResourceUnitLimitExceeded');
          }
          res.status(429);
          const body = defaultFaultBody(service, 429, sim.now(), req, res);
          if (typeof body === 'string') res.type(service === 'cyclr-app' ? 'html' : 'text').send(body);
          else res.json(body);
          return;
        }
        case 'status': {
          if (action.headers) res.set(action.headers);
          res.status(action.status);
          const body =
            action.body !== undefined
              ? action.body
              : defaultFaultBody(service, action.status, sim.now(), req, res);
          if (typeof body === 'string') {
            if (!res.get('Content-Type')) res.type(service === 'cyclr-app' ? 'html' : 'text');
            res.send(body);
          } else {
            res.json(body);
          }
          return;
        }
        case 'drop':
          if (action.when === 'before') {
            req.socket.destroy();
            return;
          }
          holdEnd(res, () => req.socket.destroy());
          return next();
        case 'delay':
          if (action.when === 'before') {
            setTimeout(next, action.ms);
            return;
          }
          holdEnd(res, (send) => setTimeout(send, action.ms));
          return next();
      }
    };
  }
}

/**
 * Intercepts res.end so the handler's response (already fully applied to the state) is handed to
 * `release`, which may send it later or never. Express' json/send/redirect all finish via end().
 */
function holdEnd(res: Response, release: (send: () => void) => void): void {
  const originalEnd = res.end.bind(res) as (...args: unknown[]) => Response;
  const originalWrite = res.write.bind(res) as (...args: unknown[]) => boolean;
  const chunks: unknown[][] = [];
  (res as unknown as { write: (...args: unknown[]) => boolean }).write = (...args: unknown[]) => {
    chunks.push(args);
    return true;
  };
  (res as unknown as { end: (...args: unknown[]) => Response }).end = (...args: unknown[]) => {
    release(() => {
      for (const c of chunks) originalWrite(...c);
      originalEnd(...args);
    });
    return res;
  };
}
