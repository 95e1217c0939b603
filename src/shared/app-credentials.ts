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
  { ok: true; credentials: AppCredentials } | { ok: false; errorType: string; message: string };

export interface AppCredentialsRequest {
  /** Workflow id to deliver the credentials to. */
  replyTo: string;
}
