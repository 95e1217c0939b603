// What the app-registration owner hands to each onboarding. The client secret travels sealed
// (AES-256-GCM, opened only inside activities), so workflow histories never hold it in plaintext.
import { onboardingWorkflowId } from './names';

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
      owner: string;
      /** The owner already put this secret into the requester's account connector (after a rotation). */
      installedForRequester?: boolean;
    }
  | { ok: false; errorType: string; message: string };

export interface AppCredentialsRequest {
  /** The onboarding's workflow id. */
  requester: string;
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

/**
 * Holders one appSecretHolders signal carries at most (500 x ~150 bytes, far below Temporal's
 * payload limits): activities batch up to it, the owner ignores a larger report as malformed.
 */
export const HOLDERS_PER_REPORT_MAX = 500;

/**
 * Secret holders as the owner carries them over continue-as-new: grouped by secret, each as
 * [accountId, accountConnectorId] plus the workflow id only when it is not the account's usual
 * one. About 40 bytes a holder instead of 150, so the owner's input stays far below Temporal's
 * 2 MB payload limit with tens of thousands of verified onboardings.
 */
export type PackedHolders = Record<string, [string, number, string?][]>;

export function packHolders(holders: Iterable<SecretHolder>): PackedHolders {
  const packed: PackedHolders = {};
  for (const h of holders) {
    const row: [string, number, string?] = [h.accountId, h.accountConnectorId];
    if (h.workflowId !== onboardingWorkflowId(h.accountId)) row.push(h.workflowId);
    (packed[h.credentialKeyId] ??= []).push(row);
  }
  return packed;
}

export function unpackHolders(packed: PackedHolders): SecretHolder[] {
  return Object.entries(packed).flatMap(([credentialKeyId, rows]) =>
    rows.map(([accountId, accountConnectorId, workflowId]) => ({
      accountId,
      accountConnectorId,
      credentialKeyId,
      workflowId: workflowId ?? onboardingWorkflowId(accountId),
    })),
  );
}
