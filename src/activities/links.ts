// Links handed to people: the customer admin's consent link and the customer user's sign-in
// link. Both carry a signed state bound to one onboarding. Run as local activities: they need
// configuration and a key, which the workflow sandbox must not touch.
import type { Config } from '../config';
import type { KeyRing } from '../secrets/keys';
import { signLinkState } from '../secrets/link-state';

export function linkActivities(config: Config, keys: KeyRing) {
  return {
    async consentLink(input: {
      workflowId: string;
      customerTenant: string;
      appId: string;
      expiresAt: string;
    }): Promise<string> {
      const state = signLinkState(keys.stateSigningKey, {
        purpose: 'consent',
        workflowId: input.workflowId,
        attempt: 0,
        exp: Math.floor(Date.parse(input.expiresAt) / 1000),
      });
      // The app-permission style /adminconsent grants every permission the app declares.
      const query = new URLSearchParams({
        client_id: input.appId,
        redirect_uri: `${config.PUBLIC_BASE_URL}/callbacks/consent`,
        state,
      });
      return `${config.IDENTITY_BASE_URL}/${encodeURIComponent(input.customerTenant)}/adminconsent?${query}`;
    },

    /** Our own link: it mints Cyclr's 5-minute one-time token only when the user opens it. */
    async signInLink(input: { workflowId: string; attempt: number; expiresAt: string }): Promise<string> {
      const state = signLinkState(keys.stateSigningKey, {
        purpose: 'sign-in',
        workflowId: input.workflowId,
        attempt: input.attempt,
        exp: Math.floor(Date.parse(input.expiresAt) / 1000),
      });
      return `${config.PUBLIC_BASE_URL}/signin?state=${encodeURIComponent(state)}`;
    },
  };
}
