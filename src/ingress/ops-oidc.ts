// Ops sign-in with OpenID Connect against the partner's own Entra tenant, with openid-client:
// authorization code with PKCE (S256), state and nonce kept in a signed single-use cookie
// (OpsAuth.startFlow), and the id token checked against the issuer's discovery document and keys
// (signature, issuer, audience, expiry, nonce). Access needs an allowed group (`groups` claim) or app
// role (`roles` claim); the session records the verified name, object id and tenant id.
import type * as Oidc from 'openid-client';
import { isLoopbackHost, type OpsOidcSettings } from '../config';
import { visible } from '../shared/terminal-text';
import type { OidcFlow } from './ops-auth';
import { SeenOnce } from './seen-once';

/** The discovery document is fetched again after this long (keys are refreshed by openid-client). */
const DISCOVERY_MAX_AGE_MS = 24 * 60 * 60_000;

/** Who the verified id token says signed in, and whether the page lets them in. */
export interface OpsIdentity {
  /** `Name <preferred_username>`: what every action is recorded as. */
  by: string;
  oid?: string;
  tid?: string;
  allowed: boolean;
  /** Entra left the groups out of the token (too many of them) and pointed at Graph instead. */
  groupsOverage: boolean;
}

export type OidcOutcome =
  | { kind: 'signed-in'; who: OpsIdentity; next: string }
  | { kind: 'not-allowed'; who: OpsIdentity }
  | { kind: 'refused'; status: 400 | 503; problem: string };

// openid-client is an ES module: imported when first needed, which works from the compiled
// CommonJS build on every Node 20 (require of an ES module needs 20.19 or later).
const library = () => import('openid-client');

export class OpsOidc {
  private configuration: Promise<Oidc.Configuration> | undefined;
  private discoveredAt = 0;
  /** States of callbacks already taken: a captured callback and cookie cannot be replayed. */
  private readonly used = new SeenOnce();

  constructor(
    readonly settings: OpsOidcSettings,
    private readonly timeoutMs: number,
  ) {}

  /** The issuer's metadata and our client, from its discovery document; cached, a failure is not. */
  private discover(): Promise<Oidc.Configuration> {
    if (!this.configuration || Date.now() - this.discoveredAt > DISCOVERY_MAX_AGE_MS) {
      this.discoveredAt = Date.now();
      const found = library().then((oidc) => {
        const issuer = new URL(this.settings.issuer);
        // openid-client talks https only. Plain http is let through for a loopback issuer (the
        // simulators on this machine); configuration refuses http anywhere else.
        const loopback = issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname);
        return oidc.discovery(
          issuer,
          this.settings.clientId,
          undefined,
          oidc.ClientSecretPost(this.settings.clientSecret),
          {
            timeout: Math.ceil(this.timeoutMs / 1000),
            // The id token's signature is checked against the issuer's keys (jwks_uri) too, not
            // only its claims, although it comes straight from the token endpoint.
            execute: [oidc.enableNonRepudiationChecks, ...(loopback ? [oidc.allowInsecureRequests] : [])],
          },
        );
      });
      found.catch(() => {
        if (this.configuration === found) this.configuration = undefined;
      });
      this.configuration = found;
    }
    return this.configuration;
  }

  /**
   * Where to send the browser to sign in, and what to keep in its flow cookie. Fails (503) when
   * the issuer's discovery document cannot be read.
   */
  async start(
    next: string,
    prompt?: 'select_account',
  ): Promise<{ url: string; flow: Omit<OidcFlow, 'exp'> } | { problem: string }> {
    const oidc = await library();
    let configuration: Oidc.Configuration;
    try {
      configuration = await this.discover();
    } catch (err) {
      console.error(visible(`ops sign-in: discovery at ${this.settings.issuer} failed: ${message(err)}`));
      return {
        problem: `Microsoft's sign-in (${this.settings.issuer}) did not answer; try again shortly.`,
      };
    }
    const verifier = oidc.randomPKCECodeVerifier();
    const flow = { verifier, state: oidc.randomState(), nonce: oidc.randomNonce(), next };
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: this.settings.redirectUri,
      scope: 'openid profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: flow.state,
      nonce: flow.nonce,
      ...(prompt ? { prompt } : {}),
    });
    return { url: url.href, flow };
  }

  /**
   * The identity provider's answer at the callback. `query` is the callback's query string;
   * `flow` the sign-in this browser started (its cookie, already taken: single use).
   */
  async callback(query: URLSearchParams, flow: OidcFlow | undefined): Promise<OidcOutcome> {
    const refused = (problem: string): OidcOutcome => ({ kind: 'refused', status: 400, problem });
    if (!flow)
      return refused(
        'sign-in: no sign-in was started from this browser, or it took longer than 10 minutes; sign in again.',
      );
    if (query.get('state') !== flow.state)
      return refused(
        'sign-in: this answer does not belong to the sign-in started from this browser (state mismatch); sign in again.',
      );
    if (!this.used.firstUse(flow.state, flow.exp * 1000))
      return refused('sign-in: this answer was already used; sign in again.');
    const oidc = await library();
    let claims: Oidc.IDToken;
    try {
      const configuration = await this.discover();
      // The URL the identity provider answered to: its redirect_uri is sent to the token endpoint.
      const current = new URL(`${this.settings.redirectUri}?${query.toString()}`);
      const tokens = await oidc.authorizationCodeGrant(configuration, current, {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
      });
      const verified = tokens.claims();
      if (!verified) return refused('sign-in: Microsoft returned no id token.');
      claims = verified;
    } catch (err) {
      if (err instanceof oidc.AuthorizationResponseError || err instanceof oidc.ResponseBodyError)
        return refused(
          `sign-in: Microsoft did not sign you in: ${firstLine(err.error_description ?? err.error)}`,
        );
      if (err instanceof oidc.ClientError) {
        console.error(visible(`ops sign-in: the id token was not accepted: ${message(err)}`));
        return refused(
          `sign-in: the answer from Microsoft was not accepted (${err.message}); sign in again.`,
        );
      }
      console.error(visible(`ops sign-in: ${message(err)}`));
      return {
        kind: 'refused',
        status: 503,
        problem: `Microsoft's sign-in (${this.settings.issuer}) did not answer; try again shortly.`,
      };
    }
    const who = this.identity(claims);
    return who.allowed ? { kind: 'signed-in', who, next: flow.next } : { kind: 'not-allowed', who };
  }

  /** Where to end the Microsoft session too, then come back to the ops page's sign-in. */
  async endSessionUrl(returnTo: string): Promise<string | undefined> {
    try {
      const oidc = await library();
      const configuration = await this.discover();
      if (!configuration.serverMetadata().end_session_endpoint) return undefined;
      return oidc.buildEndSessionUrl(configuration, { post_logout_redirect_uri: returnTo }).href;
    } catch {
      return undefined;
    }
  }

  private identity(claims: Oidc.IDToken): OpsIdentity {
    const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : undefined);
    const texts = (value: unknown) =>
      Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
    const name = text(claims.name);
    const username = text(claims.preferred_username) ?? text(claims.upn) ?? text(claims.email);
    const oid = text(claims.oid);
    const by =
      name && username && name !== username
        ? `${name} <${username}>`
        : (name ?? username ?? `user ${oid ?? claims.sub}`);
    const groups = texts(claims.groups).map((g) => g.toLowerCase());
    const roles = texts(claims.roles);
    const allowedGroups = this.settings.allowedGroups.map((g) => g.toLowerCase());
    const allowed =
      groups.some((g) => allowedGroups.includes(g)) ||
      roles.some((r) => this.settings.allowedRoles.includes(r));
    const claimNames = claims._claim_names as Record<string, unknown> | undefined;
    return {
      // Room for " (ops page)" within the 200 characters a `by` may have.
      by: by.slice(0, 180),
      ...(oid ? { oid } : {}),
      ...(text(claims.tid) ? { tid: text(claims.tid) } : {}),
      allowed,
      groupsOverage: !claims.groups && typeof claimNames?.groups === 'string',
    };
  }
}

/** An error's message, with its cause's (openid-client wraps what went wrong). */
const message = (err: unknown): string =>
  err instanceof Error
    ? `${err.message}${err.cause instanceof Error ? ` (${message(err.cause)})` : ''}`
    : String(err);
/** Entra's error descriptions carry trace and correlation ids on further lines. */
const firstLine = (text: string) => text.split(/\r?\n/)[0].slice(0, 500);
