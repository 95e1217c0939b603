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

type ServiceCounts = { total: number; statuses: Record<string, number> };

export class RequestLog {
  private entries: LoggedRequest[] = [];
  private nextIndex = 0;
  /**
   * Counted as requests arrive and finish, apart from the entries: a run of more than MAX_ENTRIES
   * requests (a 10,000-onboarding wave makes about 50 per onboarding) is still counted in full.
   * A request still in flight counts under status "0" until it finishes.
   */
  private counts: Record<string, ServiceCounts> = {};

  /** Forget all entries and counts; indexes keep counting up so `since` cursors stay valid. */
  clear(): void {
    this.entries = [];
    this.counts = {};
  }

  since(index: number): LoggedRequest[] {
    return this.entries.filter((e) => e.index >= index);
  }

  summary(): { total: number; services: Record<string, ServiceCounts> } {
    const services = structuredClone(this.counts);
    return { total: Object.values(services).reduce((n, s) => n + s.total, 0), services };
  }

  /** Moves one request of `service` into status `to` (from `from`, or new when absent). */
  private count(service: string, to: number, from?: number): void {
    const s = (this.counts[service] ??= { total: 0, statuses: {} });
    if (from === undefined) s.total++;
    else if (--s.statuses[String(from)] === 0) delete s.statuses[String(from)];
    s.statuses[String(to)] = (s.statuses[String(to)] ?? 0) + 1;
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
        // Trimmed in chunks: one splice per request on a full log moved 50,000 entries each time.
        if (this.entries.length > MAX_ENTRIES * 1.1) {
          this.entries.splice(0, this.entries.length - MAX_ENTRIES);
        }
        this.count(service, 0);
        const counted = this.counts;
        res.on('close', () => {
          entry.status = res.writableFinished ? res.statusCode : 0;
          if (counted === this.counts) this.count(service, entry.status, 0); // unless cleared meanwhile
        });
      }
      next();
    };
  }
}
