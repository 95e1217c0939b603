// Simulated Cyclr partner service domain (browser pages), mounted at /cyclr-app:
// /connectorauth/updateaccountconnectoroauth starts the connector's OAuth flow against the
// identity simulator and /connector/callback redeems the code over real HTTP.
import express, { type Request, type Response, type Router } from 'express';
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import type { SimContext } from './context.js';
import { cyclrErrorPage, postMessagePage, type CallbackOutcome } from './html.js';
import type { AccountConnector, AuthSession } from './state.js';
import { flatParams, isObject, sha256, withQuery } from './util.js';

const TOKEN_INVALID = 'The sign-in token is invalid or has expired.';

function errorPage(res: Response, status: number, message: string): void {
  res.status(status).type('html').send(cyclrErrorPage(message));
}

/** Account connector property value, falling back to the partner-level connector setting. */
function setting(sim: SimContext, ac: AccountConnector, name: string): string | undefined {
  const own = ac.properties.find((p) => p.name === name)?.value;
  if (own) return own;
  return sim.state.cyclr.connectorSettings[String(ac.connectorId)]?.[name] || undefined;
}

export function cyclrAppRouter(sim: SimContext): Router {
  const r = express.Router();
  const callbackUrl = () => sim.url('/cyclr-app/connector/callback');

  r.get('/connectorauth/updateaccountconnectoroauth', (req, res) => {
    const q = flatParams(req.query);
    if (!q.id || !q.token || !q.targetOrigin) {
      return errorPage(res, 400, 'The parameters id, token and targetOrigin are required.');
    }
    try {
      const u = new URL(q.targetOrigin);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    } catch {
      return errorPage(res, 400, 'targetOrigin must be an absolute http(s) URL.');
    }
    const key = sha256(q.token);
    const tok = sim.state.cyclr.signInTokens[key];
    const ac = sim.state.cyclr.accountConnectors.find((a) => a.id === Number(q.id));
    if (
      !tok ||
      tok.usedAtMs !== undefined ||
      tok.expiresAtMs <= sim.now() ||
      !ac ||
      ac.accountId !== tok.accountId
    ) {
      return errorPage(res, 400, TOKEN_INVALID);
    }
    tok.usedAtMs = sim.now();
    sim.changed();
    const resource = setting(sim, ac, 'Resource');
    const clientId = setting(sim, ac, 'ClientId');
    const missing = [!resource && 'Resource', !clientId && 'ClientId'].filter(Boolean);
    if (missing.length) {
      return errorPage(res, 400, `The connector is missing required setting(s): ${missing.join(', ')}.`);
    }
    const state = randomBytes(24).toString('base64url');
    const session: AuthSession = {
      accountConnectorId: ac.id,
      targetOrigin: q.targetOrigin,
      callbackMessage: q.callbackMessage,
      clientId: clientId!,
      resource: resource!,
      createdAtMs: sim.now(),
    };
    sim.state.cyclr.authSessions[state] = session;
    sim.changed();
    res.redirect(
      302,
      withQuery(sim.url('/login/common/oauth2/authorize'), {
        client_id: clientId,
        response_type: 'code',
        redirect_uri: callbackUrl(),
        resource,
        state,
      }),
    );
  });

  r.get('/connector/callback', async (req: Request, res: Response) => {
    const q = flatParams(req.query);
    const session = q.state ? sim.state.cyclr.authSessions[q.state] : undefined;
    if (!session) return errorPage(res, 400, 'The authentication session is unknown or has expired.');
    delete sim.state.cyclr.authSessions[q.state];
    sim.changed();
    const ac = sim.state.cyclr.accountConnectors.find((a) => a.id === session.accountConnectorId);
    if (!ac) return errorPage(res, 400, 'The account connector no longer exists.');

    let outcome: CallbackOutcome;
    if (q.code) {
      outcome = await redeem(sim, ac, session, q.code, callbackUrl());
    } else {
      outcome = {
        success: false,
        accountConnectorId: ac.id,
        error: q.error || 'unknown_error',
        errorDescription: q.error_description ?? '',
      };
      ac.lastAuthError = {
        error: outcome.error!,
        error_description: outcome.errorDescription!,
        at: new Date(sim.now()).toISOString(),
      };
      sim.changed();
    }

    if (session.callbackMessage !== undefined) {
      return res
        .status(200)
        .type('html')
        .send(postMessagePage(outcome, session.callbackMessage, session.targetOrigin));
    }
    // What Cyclr appends to targetOrigin is unconfirmed: `query` (default) appends the outcome,
    // `none` returns to targetOrigin exactly as given.
    if (sim.state.settings.cyclrRedirectOutcome === 'none') return res.redirect(302, session.targetOrigin);
    const params: Record<string, string | undefined> = outcome.success
      ? { success: 'true', accountConnectorId: String(ac.id) }
      : { success: 'false', error: outcome.error, error_description: outcome.errorDescription };
    res.redirect(302, withQuery(session.targetOrigin, params));
  });

  r.use((_req, res) => errorPage(res, 404, 'The page you are looking for does not exist.'));
  return r;
}

/** Redeems the authorization code at the identity simulator's v1 token endpoint, over HTTP. */
async function redeem(
  sim: SimContext,
  ac: AccountConnector,
  session: AuthSession,
  code: string,
  redirectUri: string,
): Promise<CallbackOutcome> {
  const form = new URLSearchParams({
    grant_type: 'authorization_code',
    client_id: session.clientId,
    code,
    redirect_uri: redirectUri,
    resource: session.resource,
  });
  const secret = setting(sim, ac, 'ClientSecret');
  if (secret) form.set('client_secret', secret);
  let status = 0;
  let body: unknown;
  try {
    // undici's request() rather than fetch: every sign-in of a benchmark wave makes this call on the
    // machine being measured, and request() skips fetch's Request/Response and web-stream layers.
    // Straight to the listening address, not through a front at `publicUrl`: this process need
    // not trust the front's certificate.
    const reply = await request(`${sim.listenUrl}/login/common/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
      signal: AbortSignal.timeout(30_000),
    });
    status = reply.statusCode;
    const text = await reply.body.text();
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  } catch (err) {
    body = {
      error: 'server_error',
      error_description: `Token endpoint unreachable: ${(err as Error).message}`,
    };
  }
  if (status === 200 && isObject(body) && typeof body.access_token === 'string') {
    ac.authenticated = true;
    ac.tokens = {
      accessToken: body.access_token,
      refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : undefined,
      expiresOn: typeof body.expires_on === 'string' ? body.expires_on : undefined,
      resource: typeof body.resource === 'string' ? body.resource : undefined,
    };
    ac.lastAuthenticatedAt = new Date(sim.now()).toISOString();
    delete ac.lastAuthError;
    sim.state.counts.tokenRedemptions++;
    sim.changed();
    return { success: true, accountConnectorId: ac.id };
  }
  const b = isObject(body) ? body : {};
  const error = typeof b.error === 'string' ? b.error : `http_${status}`;
  const description =
    typeof b.error_description === 'string' ? b.error_description : `Token endpoint returned HTTP ${status}.`;
  ac.lastAuthError = {
    error,
    error_description: description,
    error_codes: Array.isArray(b.error_codes)
      ? b.error_codes.filter((c): c is number => typeof c === 'number')
      : undefined,
    at: new Date(sim.now()).toISOString(),
  };
  sim.state.counts.tokenRedemptionFailures++;
  sim.changed();
  return { success: false, accountConnectorId: ac.id, error, errorDescription: description };
}
