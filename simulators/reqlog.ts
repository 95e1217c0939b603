// In-memory log of every request the simulated services answered (for tests and debugging).
import type { NextFunction, Request, Response } from 'express';
import type { Service } from './context.js';

export interface LoggedRequest {
  index: number;
  at: string;
  service: Service;
  method: string;
  /** Path without the simulator prefix and without the query, e.g. /v1.0/account/connectors. */
  path: string;
  /** HTTP status sent, or 0 when the connection was dropped without a response. */
  status: number;
}

const MAX_ENTRIES = 50_000;

export class RequestLog {
  private entries: LoggedRequest[] = [];
  private nextIndex = 0;

  /** Forget all entries; indexes keep counting up so `since` cursors stay valid. */
  clear(): void {
    this.entries = [];
  }

  since(index: number): LoggedRequest[] {
    return this.entries.filter((e) => e.index >= index);
  }

  summary(): {
    total: number;
    services: Record<string, { total: number; statuses: Record<string, number> }>;
  } {
    const services: Record<string, { total: number; statuses: Record<string, number> }> = {};
    for (const e of this.entries) {
      const s = (services[e.service] ??= { total: 0, statuses: {} });
      s.total++;
      s.statuses[String(e.status)] = (s.statuses[String(e.status)] ?? 0) + 1;
    }
    return { total: this.entries.length, services };
  }

  /** Express middleware; expects res.locals.service / res.locals.subPath set by the classifier. */
  middleware() {
    return (req: Request, res: Response, next: NextFunction): void => {
      const service = res.locals.service as Service | undefined;
      if (service) {
        const entry: LoggedRequest = {
          index: this.nextIndex++,
          at: new Date().toISOString(),
          service,
          method: req.method,
          path: String(res.locals.subPath),
          status: 0,
        };
        this.entries.push(entry);
        if (this.entries.length > MAX_ENTRIES) {
          this.entries.splice(0, this.entries.length - MAX_ENTRIES);
        }
        res.on('close', () => {
          entry.status = res.writableFinished ? res.statusCode : 0;
        });
      }
      next();
    };
  }
}
