// Configuration from the environment, validated once at start-up. Every default points at the
// embedded setup (local Temporal dev server, the project's simulators); production sets the
// real endpoints and credentials. See README "Configuration".
import { z } from 'zod';
import { parseTrustProxy } from './ingress/trust-proxy';
import { describeIssues } from './shared/validation';

const url = z.url({ error: 'expected an absolute http(s) URL' }).transform((u) => u.replace(/\/+$/, ''));
const port = z.coerce.number().int().min(0).max(65535);

// Default credentials are the simulators' seeded clients: meaningful only against the simulators.
const SIM = 'http://127.0.0.1:8089';

/** A comma-separated list; blanks dropped. */
const list = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  )
  .optional();

/** Hosts whose plain-http issuer is allowed: the simulators and the embedded default only. */
export const isLoopbackHost = (host: string) =>
  host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

// The ops page's OpenID Connect issuer: https, or http on loopback (the simulators); one tenant,
// since a multi-tenant issuer would let any organisation's accounts reach the group check.
const issuer = z
  .string()
  .transform((value, ctx) => {
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: `not a URL: expected your tenant's issuer, e.g. https://login.microsoftonline.com/<tenant id>/v2.0`,
      });
      return z.NEVER;
    }
    if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname))) {
      ctx.addIssue({ code: 'custom', message: 'must use https (plain http only on 127.0.0.1 or localhost)' });
      return z.NEVER;
    }
    if (parsed.search || parsed.hash) {
      ctx.addIssue({
        code: 'custom',
        message: 'no query or fragment: the issuer exactly as its discovery document names it',
      });
      return z.NEVER;
    }
    if (/\/(common|organizations|consumers)(\/|$)/i.test(parsed.pathname)) {
      ctx.addIssue({
        code: 'custom',
        message:
          'must name your own tenant (its Directory (tenant) ID), not common, organizations or consumers',
      });
      return z.NEVER;
    }
    return value;
  })
  .optional();

const trustProxy = z
  .string()
  .transform((value, ctx) => {
    const parsed = parseTrustProxy(value);
    if (parsed.ok) return parsed.value;
    ctx.addIssue({ code: 'custom', message: parsed.message });
    return z.NEVER;
  })
  .optional();

const schema = z.object({
  INGRESS_HOST: z.string().default('127.0.0.1'),
  INGRESS_PORT: port.default(8088),
  /** How customers' browsers reach the ingress (consent and sign-in callbacks). */
  PUBLIC_BASE_URL: url.default('http://127.0.0.1:8088'),
  /** HMAC-SHA256 key for onboarding events (POST /events/onboarding); unset: the endpoint is off. */
  EVENTS_HMAC_SECRET: z.string().min(32, { error: 'at least 32 characters' }).optional(),
  /** How far an event's timestamp may be from now, in seconds (stale and replay window). */
  EVENTS_MAX_SKEW_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
  /** The ops page's login token; unset: one is generated into DATA_DIR/ops-token. */
  OPS_TOKEN: z.string().min(16, { error: 'at least 16 characters' }).optional(),
  /** The ops page's sign-in with OpenID Connect (the partner's own Entra tenant); unset: the ops
   *  token. The redirect URI to register on the app is PUBLIC_BASE_URL/ops/oidc/callback. */
  OPS_OIDC_ISSUER: issuer,
  OPS_OIDC_CLIENT_ID: z.string().trim().min(1).optional(),
  OPS_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  /** Who may use the page: members of these groups (object ids) or holders of these app roles. */
  OPS_OIDC_ALLOWED_GROUPS: list,
  OPS_OIDC_ALLOWED_ROLES: list,
  /** Express "trust proxy" for the ingress behind a reverse proxy (e.g. 1, or loopback), so
   *  client addresses (failed ops sign-ins are counted per address) are the real ones. */
  INGRESS_TRUST_PROXY: trustProxy,
  /** The codec server's "trust proxy", in the same forms, when it is behind a reverse proxy. */
  CODEC_TRUST_PROXY: trustProxy,
  /**
   * How long the sign-in link hands out the same Cyclr token again. Off by default: Cyclr's token
   * is single-use, so a link scanner or an abandoned first try would leave the user a spent one;
   * SIGNIN_TOKENS_PER_LINK bounds the new ones.
   */
  SIGNIN_TOKEN_REUSE_SECONDS: z.coerce.number().int().min(0).max(300).default(0),
  /** New Cyclr sign-in tokens one sign-in link may ask for in 15 minutes. */
  SIGNIN_TOKENS_PER_LINK: z.coerce.number().int().min(1).max(100).default(10),

  IDENTITY_BASE_URL: url.default(`${SIM}/login`),
  GRAPH_BASE_URL: url.default(`${SIM}/graph`),
  CYCLR_API_BASE_URL: url.default(`${SIM}/cyclr-api`),
  /** The partner's Cyclr service domain, e.g. https://acme-h.cyclr.com */
  CYCLR_SERVICE_BASE_URL: url.default(`${SIM}/cyclr-app`),

  /** The partner's own Entra tenant, where the shared multi-tenant app is registered. */
  PARTNER_TENANT_ID: z.string().min(1).default('11111111-1111-4111-8111-111111111111'),
  /** A client in the partner tenant allowed Application.ReadWrite.OwnedBy on Microsoft Graph. */
  GRAPH_CLIENT_ID: z.string().min(1).default('sim-graph-admin-client'),
  GRAPH_CLIENT_SECRET: z.string().min(1).default('sim-graph-admin-secret'),
  CYCLR_CLIENT_ID: z.string().min(1).default('sim-cyclr-client'),
  CYCLR_CLIENT_SECRET: z.string().min(1).default('sim-cyclr-secret'),
  DYNAMICS_CONNECTOR_NAME: z.string().min(1).default('Dynamics CRM Online'),
  /** Username for Cyclr's one-time sign-in tokens ("created if it does not exist"). */
  CYCLR_SIGNIN_USERNAME: z.string().min(1).default('dynamics-onboarding'),

  APP_UNIQUE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/, { error: 'letters, digits, ".", "_" or "-"' })
    .default('cyclr-dynamics-onboarding'),
  APP_DISPLAY_NAME: z.string().min(1).default('Cyclr Dynamics CRM Online'),
  /** An app registered by hand (its Application (client) ID): adopted instead of creating one. */
  APP_ID: z
    .string()
    .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, {
      error: "expected the app's Application (client) ID, a GUID from the Azure portal",
    })
    .optional(),
  /** Lifetime of client secrets the product creates. */
  APP_SECRET_LIFETIME_DAYS: z.coerce.number().int().min(1).max(730).default(180),

  /** Keys that seal client secrets: `id:base64(32 bytes)[,id:key...]`, the first seals, all open. */
  SECRET_SEALING_KEYS: z.string().optional(),
  /** Key that signs `state` in consent and sign-in links (>= 32 characters). */
  STATE_SIGNING_KEY: z.string().min(32, { error: 'at least 32 characters' }).optional(),
  /** Where keys are generated and kept when none is configured (embedded default only). */
  DATA_DIR: z.string().default('.data'),

  HTTP_TIMEOUT_MS: z.coerce.number().int().min(100).default(15000),

  /** Payload codec keys `id:base64(32 bytes)[,id:key...]`: the first encrypts, all decrypt. */
  PAYLOAD_CODEC_KEYS: z.string().optional(),
  /** Bearer token the codec server requires before it decodes (>= 32 characters). */
  CODEC_AUTH_TOKEN: z.string().min(32, { error: 'at least 32 characters' }).optional(),
  CODEC_HOST: z.string().default('127.0.0.1'),
  CODEC_PORT: port.default(8888),
  /** Web UI origins allowed to call the codec server from the browser (comma-separated). */
  CODEC_CORS_ORIGINS: z.string().default('http://127.0.0.1:8233,http://localhost:8233'),

  /** A client secret this many days from its end is renewed by the app's owner workflow. */
  APP_SECRET_RENEW_BEFORE_DAYS: z.coerce.number().int().min(1).max(365).default(14),
  /** Where notifications (a person must act, reminders, expiry) are POSTed as JSON; unset: logged only. */
  NOTIFY_WEBHOOK_URL: url.optional(),
  /** Sent as `Authorization` with each notification (e.g. `Bearer ...`); never logged. */
  NOTIFY_WEBHOOK_AUTHORIZATION: z.string().min(1).optional(),
});

const checkedSchema = schema.superRefine((c, ctx) => {
  // OpenID Connect for the ops page is all or nothing, and never open to the whole tenant.
  const oidc = [
    'OPS_OIDC_ISSUER',
    'OPS_OIDC_CLIENT_ID',
    'OPS_OIDC_CLIENT_SECRET',
    'OPS_OIDC_ALLOWED_GROUPS',
    'OPS_OIDC_ALLOWED_ROLES',
  ] as const;
  const set = oidc.filter((k) => (Array.isArray(c[k]) ? c[k].length : c[k]));
  if (!set.length) return;
  const why = `needed for the ops page's sign-in with OpenID Connect (${set.join(', ')} ${set.length === 1 ? 'is' : 'are'} set)`;
  const need = {
    OPS_OIDC_ISSUER: `${why}: your tenant's issuer, https://login.microsoftonline.com/<tenant id>/v2.0`,
    OPS_OIDC_CLIENT_ID: `${why}: the ops app's Application (client) ID`,
    OPS_OIDC_CLIENT_SECRET: `${why}: a client secret's Value of the ops app`,
  };
  for (const [key, message] of Object.entries(need))
    if (!c[key as keyof typeof need]) ctx.addIssue({ code: 'custom', path: [key], message });
  if (!c.OPS_OIDC_ALLOWED_GROUPS?.length && !c.OPS_OIDC_ALLOWED_ROLES?.length)
    ctx.addIssue({
      code: 'custom',
      path: ['OPS_OIDC_ALLOWED_GROUPS'],
      message:
        'set OPS_OIDC_ALLOWED_GROUPS (group object ids) or OPS_OIDC_ALLOWED_ROLES (app role values), or both: without them everyone in the tenant could use the ops page',
    });
});

export type Config = z.output<typeof schema>;

export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<Record<keyof Config, string>> = {},
): Config {
  const raw: Record<string, string | undefined> = {};
  for (const key of Object.keys(schema.shape))
    raw[key] = overrides[key as keyof Config] ?? env[key] ?? undefined;
  for (const key of Object.keys(raw)) if (raw[key] === '') raw[key] = undefined;
  const result = checkedSchema.safeParse(raw);
  if (!result.success) throw new Error(`Invalid configuration: ${describeIssues(result.error)}`);
  return result.data;
}

/** The ops page's OpenID Connect sign-in, when configured (loadConfig checked it is complete). */
export interface OpsOidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
  allowedGroups: string[];
  allowedRoles: string[];
  /** Where the identity provider sends the browser back: must be registered on the app. */
  redirectUri: string;
}

export const OPS_OIDC_CALLBACK_PATH = '/ops/oidc/callback';

export function opsOidcSettings(config: Config): OpsOidcSettings | undefined {
  if (!config.OPS_OIDC_ISSUER || !config.OPS_OIDC_CLIENT_ID || !config.OPS_OIDC_CLIENT_SECRET)
    return undefined;
  // loadConfig refuses this too; a Config put together by hand must not open the page to everyone.
  if (!config.OPS_OIDC_ALLOWED_GROUPS?.length && !config.OPS_OIDC_ALLOWED_ROLES?.length)
    throw new Error('OPS_OIDC_ALLOWED_GROUPS or OPS_OIDC_ALLOWED_ROLES is required with OPS_OIDC_ISSUER');
  return {
    issuer: config.OPS_OIDC_ISSUER,
    clientId: config.OPS_OIDC_CLIENT_ID,
    clientSecret: config.OPS_OIDC_CLIENT_SECRET,
    allowedGroups: config.OPS_OIDC_ALLOWED_GROUPS ?? [],
    allowedRoles: config.OPS_OIDC_ALLOWED_ROLES ?? [],
    redirectUri: `${config.PUBLIC_BASE_URL}${OPS_OIDC_CALLBACK_PATH}`,
  };
}
