// Asking Microsoft about a customer's tenant with the shared app's own credentials: whether anyone
// consented (the app has a service principal there) and whether the Dynamics org is in it.
import type { TenantProbe } from '../clients/identity';
import type { KeyRing } from '../secrets/keys';
import { openSecret } from '../secrets/sealing';
import type { AppCredentials } from '../shared/app-credentials';
import type { TenantCheck } from '../shared/status';

export type Probe = (input: {
  tenant: string;
  resourceUrl: string;
  clientId: string;
  clientSecret: string;
}) => Promise<TenantProbe>;

export function identityActivities(probe: Probe, keys: KeyRing) {
  return {
    async checkTenant(input: {
      tenant: string;
      resourceUrl: string;
      credentials: AppCredentials;
    }): Promise<TenantCheck> {
      const answer = await probe({
        tenant: input.tenant,
        resourceUrl: input.resourceUrl,
        clientId: input.credentials.appId,
        clientSecret: openSecret(keys, input.credentials.secret),
      });
      const at = new Date().toISOString();
      return answer.verdict === 'consented'
        ? {
            at,
            verdict: 'consented',
            code: null,
            message: `consent exists and ${input.resourceUrl} is in the tenant`,
          }
        : { at, ...answer };
    },
  };
}
