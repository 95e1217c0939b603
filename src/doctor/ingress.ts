// The ingress: PUBLIC_BASE_URL is https (outside the simulators), and its /healthz answers there;
// with OpenID Connect for the ops page, the issuer's discovery document answers and names it.
import { HttpClient } from '../clients/http-client';
import { opsOidcSettings } from '../config';
import { onSimulators, type DoctorDeps } from './context';
import { failed, messageOf, passed, type DoctorCheck } from './report';

const GROUP = 'ingress';

export async function ingressChecks(deps: DoctorDeps): Promise<DoctorCheck[]> {
  const { config } = deps;
  const base = config.PUBLIC_BASE_URL;
  const checks: DoctorCheck[] = [];
  const https = base.startsWith('https://');
  if (https || onSimulators(config))
    checks.push(
      passed(GROUP, 'PUBLIC_BASE_URL', `${base}${https ? '' : ' (http: allowed on the simulators only)'}`),
    );
  else
    checks.push(
      failed(
        GROUP,
        'PUBLIC_BASE_URL',
        `${base} is not https`,
        "set PUBLIC_BASE_URL to the https address customers' browsers reach the ingress at (Microsoft and Cyclr redirect there), e.g. https://onboarding.partner.example",
      ),
    );

  const name = `${base}/healthz answers`;
  const fix = `start the ingress (npm run ingress, or npm start) and make ${base} reach it (INGRESS_HOST/INGRESS_PORT, your proxy)`;
  try {
    const res = await new HttpClient(base, deps.timeoutMs ?? 10_000).request({ url: '/healthz' });
    checks.push(
      res.status === 200 && res.data?.ok === true
        ? passed(GROUP, name, 'HTTP 200')
        : failed(GROUP, name, `HTTP ${res.status}: not the ingress's health answer`, fix),
    );
  } catch (err) {
    checks.push(failed(GROUP, name, `no answer (${messageOf(err)})`, fix));
  }
  return [...checks, ...(await opsSignInChecks(deps))];
}

/** The ops page's sign-in with OpenID Connect, when configured: can the ingress discover the issuer? */
export async function opsSignInChecks(deps: DoctorDeps): Promise<DoctorCheck[]> {
  const oidc = opsOidcSettings(deps.config);
  if (!oidc) return [];
  const name = 'ops sign-in: OPS_OIDC_ISSUER discovery';
  const document = new URL(`${oidc.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
  const fix = `set OPS_OIDC_ISSUER to https://login.microsoftonline.com/<Directory (tenant) ID>/v2.0 (your tenant's issuer) and let the ingress reach it`;
  try {
    const res = await new HttpClient(document.origin, deps.timeoutMs ?? 10_000).request<{
      issuer?: unknown;
      jwks_uri?: unknown;
    }>({ url: document.pathname });
    if (res.status !== 200) return [failed(GROUP, name, `HTTP ${res.status} from ${document.href}`, fix)];
    if (res.data?.issuer !== oidc.issuer)
      return [
        failed(
          GROUP,
          name,
          `${document.href} names the issuer ${String(res.data?.issuer)}, not ${oidc.issuer}`,
          `set OPS_OIDC_ISSUER to exactly the issuer the document names, if it is your tenant's`,
        ),
      ];
    if (typeof res.data.jwks_uri !== 'string')
      return [failed(GROUP, name, `${document.href} has no jwks_uri: id tokens could not be checked`, fix)];
    return [
      passed(
        GROUP,
        name,
        `${oidc.issuer} answers, keys at ${res.data.jwks_uri}; app ${oidc.clientId} must have the redirect URI ${oidc.redirectUri}`,
      ),
    ];
  } catch (err) {
    return [failed(GROUP, name, `no answer from ${document.href} (${messageOf(err)})`, fix)];
  }
}
