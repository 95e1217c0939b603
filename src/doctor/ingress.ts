// The ingress: PUBLIC_BASE_URL is https (outside the simulators), and its /healthz answers there.
import { HttpClient } from '../clients/http-client';
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
  return checks;
}
