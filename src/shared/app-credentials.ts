// What the app-registration owner hands to each onboarding. The client secret travels sealed
// (AES-256-GCM, opened only inside activities), so workflow histories never hold it in plaintext.

export interface SealedSecret {
  keyId: string;
  /** base64url of iv | ciphertext | tag */
  sealed: string;
}

export interface AppCredentials {
  appId: string;
  objectId: string;
  servicePrincipalId: string;
  secret: SealedSecret & { credentialKeyId: string; expiresAt: string };
}

export type AppCredentialsDelivery =
  | {
      ok: true;
      credentials: AppCredentials;
      /** The owner's workflow id: onboardings tell it where they installed the secret. */
      owner?: string;
      /** Requesters whose account connector the owner already gave this secret (after a rotation). */
      secretInstalledFor?: string[];
    }
  | { ok: false; errorType: string; message: string };

export interface AppCredentialsRequest {
  /** Workflow id to deliver the credentials to. */
  replyTo: string;
  /** Microsoft rejected this secret (AADSTS7000222 expired, 7000215 invalid): replace it. */
  rejectedKeyId?: string;
  reason?: string;
}

/** An account connector whose ClientSecret property holds the app's secret. */
export interface SecretHolder {
  workflowId: string;
  accountId: string;
  accountConnectorId: number;
  credentialKeyId: string;
}
