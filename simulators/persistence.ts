// Optional persistence of the simulated world to a JSON file: loaded at start, saved (debounced,
// write-to-temp then atomic rename) after changes, flushed on close.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SimContext } from './context.js';
import type { SimState } from './state.js';
import { sha256 } from './util.js';

const DEBOUNCE_MS = 50;

export class Persistence {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly file: string,
    private readonly sim: SimContext,
  ) {}

  /** Loads the file into the context if it exists and is readable. Returns whether it did. */
  load(): boolean {
    if (!existsSync(this.file)) return false;
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (err) {
      console.warn(`[simulators] ignoring unreadable state file ${this.file}: ${(err as Error).message}`);
      return false;
    }
    const s = parsed as Partial<SimState>;
    if (!s || s.version !== 1 || !Array.isArray(s.tenants) || !s.cyclr) {
      console.warn(`[simulators] ignoring state file ${this.file}: unknown format`);
      return false;
    }
    // The built-in clients' credentials are configuration: take them from the current environment.
    const creds = this.sim.creds;
    s.graphClient = {
      ...s.graphClient!,
      appId: creds.graphClientId,
      secretHash: sha256(creds.graphClientSecret),
    };
    s.cyclrClient = { clientId: creds.cyclrClientId, secretHash: sha256(creds.cyclrClientSecret) };
    this.sim.state = s as SimState;
    this.sim.stateReplaced();
    return true;
  }

  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.write();
    }, DEBOUNCE_MS);
    this.timer.unref();
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.write();
  }

  private write(): void {
    try {
      this.sim.prune();
      mkdirSync(dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(this.sim.state), { mode: 0o600 });
      renameSync(tmp, this.file);
    } catch (err) {
      console.warn(`[simulators] could not save state to ${this.file}: ${(err as Error).message}`);
    }
  }
}
