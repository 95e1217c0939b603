// The shared context every simulated service gets: the state, the clock, the base URL, and
// helpers for recording issued secrets and asking for a save.
import { freshState, seedCredentials, type SeedCredentials, type SimState, type Tenant } from './state.js';
import { sha256 } from './util.js';

export type Service = 'identity' | 'graph' | 'cyclr-api' | 'cyclr-app';

export class SimContext {
  state: SimState;
  /** `http://host:port`, set once the server listens. */
  baseUrl = '';
  readonly creds: SeedCredentials;
  private onChange: () => void = () => {};

  constructor(
    readonly seed: boolean,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.creds = seedCredentials(env);
    this.state = freshState(this.creds, sha256, seed);
  }

  setChangeListener(fn: () => void): void {
    this.onChange = fn;
  }

  /** Ask for the state to be persisted soon (debounced by the persistence layer). */
  changed(): void {
    this.onChange();
  }

  reset(): void {
    this.state = freshState(this.creds, sha256, this.seed);
    this.changed();
  }

  /** Simulated wall clock (real time plus an offset tests can move forward). */
  now(): number {
    return Date.now() + this.state.clockOffsetMs;
  }

  /** Remember a secret the simulators handed out, so tests can search logs for leaks. */
  issued(secret: string): void {
    this.state.secretsIssued.push(secret);
    if (this.state.secretsIssued.length > 20000) this.state.secretsIssued.splice(0, 5000);
  }

  url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  tenantById(id: string): Tenant | undefined {
    const tenant = this.lookup().byKey.get(id.toLowerCase());
    return tenant?.id.toLowerCase() === id.toLowerCase() ? tenant : undefined;
  }

  /** A tenant by GUID or domain name. */
  findTenant(idOrDomain: string): Tenant | undefined {
    return this.lookup().byKey.get(idOrDomain.toLowerCase());
  }

  findUser(username: string): { tenant: Tenant; admin: boolean; username: string } | undefined {
    return this.lookup().users.get(username.trim().toLowerCase());
  }

  /** Call after replacing a tenant in place (appends and a new state are noticed by themselves). */
  tenantsChanged(): void {
    this.index = undefined;
  }

  /**
   * Tenants by id and domain, users by name: a wave of ten thousand customers must not make every
   * request scan them all. Tenants are appended, so only the new ones are indexed each time.
   */
  private index?: {
    tenants: Tenant[];
    count: number;
    byKey: Map<string, Tenant>;
    users: Map<string, { tenant: Tenant; admin: boolean; username: string }>;
  };

  private lookup(): NonNullable<SimContext['index']> {
    const tenants = this.state.tenants;
    if (!this.index || this.index.tenants !== tenants || this.index.count > tenants.length) {
      this.index = { tenants, count: 0, byKey: new Map(), users: new Map() };
    }
    const index = this.index;
    for (; index.count < tenants.length; index.count++) {
      const tenant = tenants[index.count];
      // The first tenant with a key wins, as a scan in order would find it.
      for (const key of [tenant.id.toLowerCase(), tenant.domain.toLowerCase()])
        if (!index.byKey.has(key)) index.byKey.set(key, tenant);
      for (const user of tenant.users) {
        const key = user.username.toLowerCase();
        if (!index.users.has(key))
          index.users.set(key, { tenant, admin: user.admin, username: user.username });
      }
    }
    return index;
  }

  /** Drop expired short-lived records so the state file does not grow forever. */
  prune(): void {
    const now = this.now();
    const s = this.state;
    for (const [k, c] of Object.entries(s.authCodes))
      if (c.expiresAtMs + 24 * 3600_000 < now) delete s.authCodes[k];
    for (const [k, t] of Object.entries(s.tokens)) if (t.expiresAtMs < now) delete s.tokens[k];
    for (const [k, t] of Object.entries(s.cyclr.apiTokens))
      if (t.expiresAtMs < now) delete s.cyclr.apiTokens[k];
    for (const [k, t] of Object.entries(s.cyclr.signInTokens))
      if (t.expiresAtMs + 24 * 3600_000 < now) delete s.cyclr.signInTokens[k];
    for (const [k, a] of Object.entries(s.cyclr.authSessions))
      if (a.createdAtMs + 24 * 3600_000 < now) delete s.cyclr.authSessions[k];
  }
}
