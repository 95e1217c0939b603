// The shared context every simulated service gets: the state, the clock, the base URL, and
// helpers for recording issued secrets and asking for a save.
import { createHash, createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  freshState,
  normaliseState,
  seedCredentials,
  type SeedCredentials,
  type SigningKey,
  type SimUser,
  type SimState,
  type Tenant,
} from './state.js';
import { sha256 } from './util.js';

export interface FoundUser {
  tenant: Tenant;
  admin: boolean;
  username: string;
  user: SimUser;
}

export type Service = 'identity' | 'graph' | 'cyclr-api' | 'cyclr-app';

export class SimContext {
  state: SimState;
  /** The base of every URL handed out: the `publicUrl` option, else `listenUrl`. */
  baseUrl = '';
  /** `http://host:port`, set once the server listens. */
  listenUrl = '';
  readonly creds: SeedCredentials;
  private onChange: () => void = () => {};

  constructor(
    readonly seed: boolean,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.creds = seedCredentials(env);
    this.state = freshState(this.creds, sha256, seed);
    this.stateReplaced();
  }

  /** Call after `state` was replaced wholesale (a loaded state file): fills gaps, keeps a signing key. */
  stateReplaced(): void {
    normaliseState(this.state, this.creds, sha256);
    if (!this.state.signingKeys.length) this.state.signingKeys.push(newSigningKey());
    this.key = undefined;
  }

  private key?: { kid: string; privateKey: KeyObject };

  /** The key every token is signed with (the newest one in the state). */
  signingKey(): { kid: string; privateKey: KeyObject } {
    const k = this.state.signingKeys[this.state.signingKeys.length - 1];
    if (!this.key || this.key.kid !== k.kid) {
      this.key = { kid: k.kid, privateKey: createPrivateKey(k.privateKeyPem) };
    }
    return this.key;
  }

  setChangeListener(fn: () => void): void {
    this.onChange = fn;
  }

  /** Ask for the state to be persisted soon (debounced by the persistence layer). */
  changed(): void {
    this.onChange();
  }

  /** A fresh world; the signing keys survive (tokens issued before stay verifiable). */
  reset(): void {
    const keys = this.state.signingKeys;
    this.state = freshState(this.creds, sha256, this.seed);
    this.state.signingKeys = keys;
    this.stateReplaced();
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

  findUser(username: string): FoundUser | undefined {
    const found = this.lookup().users.get(username.trim().toLowerCase());
    return found && { ...found, admin: found.user.admin };
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
    users: Map<string, FoundUser>;
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
          index.users.set(key, { tenant, admin: user.admin, username: user.username, user });
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
    for (const [k, i] of Object.entries(s.interactions)) if (i.expiresAtMs < now) delete s.interactions[k];
  }
}

/** A 2048-bit RSA signing key; `kid` is the base64url SHA-1 of the modulus (27 characters, x5t-like). */
function newSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  const n = String(jwk.n);
  return {
    kid: createHash('sha1').update(Buffer.from(n, 'base64url')).digest('base64url'),
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    n,
    e: String(jwk.e),
    createdAt: new Date().toISOString(),
  };
}

/** A user's object id: stable for (tenant, username), so re-seeding a tenant keeps it. */
export function userOid(tenantId: string, username: string): string {
  const h = sha256(`oid\0${tenantId.toLowerCase()}\0${username.toLowerCase()}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
