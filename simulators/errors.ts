// Error bodies in each service's own wire format: the identity platform's token-endpoint JSON
// (learn.microsoft.com/entra/identity-platform/reference-error-codes), Graph's error envelope
// (learn.microsoft.com/graph/errors) and Cyclr's {"Message": ...} (as answered to the tests in
// github.com/sophia-cyclr/cyclr_api_testing, which run against Cyclr's API).
import type { Request, Response } from 'express';
import type { Service } from './context.js';
import { aadTimestamp, graphDate, guid, GUID_RE } from './util.js';

// ---------------------------------------------------------------- Microsoft identity (AADSTS)

/** Codes for which the simulated login service emits `error_uri` (modelling choice). */
const CODES_WITH_ERROR_URI = new Set([
  50059, 65001, 65004, 70003, 70008, 70011, 90002, 90014, 500011, 650057, 700016, 7000215, 7000218, 7000222,
  7000229, 900144,
]);

export interface AadError {
  status: number;
  error: string;
  code: number;
  /** Text after `AADSTSnnnn: ` (without trailers). */
  message: string;
  suberror?: string;
  /** Extra codes placed after `code` in error_codes. */
  extraCodes?: number[];
}

export interface AadTrailer {
  traceId: string;
  correlationId: string;
  timestamp: string;
}

export function aadTrailer(nowMs: number, req?: Request): AadTrailer {
  const clientRequestId = req?.get('client-request-id');
  return {
    traceId: guid(),
    correlationId: clientRequestId && GUID_RE.test(clientRequestId) ? clientRequestId : guid(),
    timestamp: aadTimestamp(nowMs),
  };
}

/** `AADSTSnnnn: message\r\nTrace ID: ...\r\nCorrelation ID: ...\r\nTimestamp: ...` */
export function aadDescription(code: number, message: string, t: AadTrailer): string {
  return `AADSTS${code}: ${message}\r\nTrace ID: ${t.traceId}\r\nCorrelation ID: ${t.correlationId}\r\nTimestamp: ${t.timestamp}`;
}

export function aadErrorUri(code: number): string | undefined {
  return CODES_WITH_ERROR_URI.has(code) ? `https://login.microsoftonline.com/error?code=${code}` : undefined;
}

/**
 * The token-endpoint error JSON ("Error response" in the Entra error code reference,
 * learn.microsoft.com/entra/identity-platform/reference-error-codes); the trailer lines are
 * separated by CRLF as in raw public captures.
 */
export function aadErrorBody(e: AadError, t: AadTrailer): Record<string, unknown> {
  const body: Record<string, unknown> = {
    error: e.error,
    error_description: aadDescription(e.code, e.message, t),
    error_codes: [e.code, ...(e.extraCodes ?? [])],
    timestamp: t.timestamp,
    trace_id: t.traceId,
    correlation_id: t.correlationId,
  };
  const uri = aadErrorUri(e.code);
  if (uri) body.error_uri = uri;
  if (e.suberror) body.suberror = e.suberror;
  return body;
}

export function sendAadError(req: Request, res: Response, nowMs: number, e: AadError): void {
  const t = aadTrailer(nowMs, req);
  res
    .status(e.status)
    .set('Cache-Control', 'no-store, no-cache')
    .set('Pragma', 'no-cache')
    .set('x-ms-request-id', t.traceId)
    .json(aadErrorBody(e, t));
}

/**
 * The catalogue of identity errors this simulator can produce. Meanings from the Entra error code
 * reference (learn.microsoft.com/entra/identity-platform/reference-error-codes); wire wording,
 * `error` and HTTP status from public captures, e.g. 7000215 databricks/databricks-sdk-go#240,
 * 7000222 liprec/vsts-release-aas#119, 65001 OfficeDev/microsoft-teams-apps-contactgrouplookup#43,
 * 90002 microsoft/azure-tools-for-java#3900, 90014 postmanlabs/postman-runtime#137, 900144
 * MicrosoftDocs/azure-docs#43780, 700016 microsoft/AzureMonitorAddonForSplunk#114; the README's
 * "Modelling choices" names the others and what is unconfirmed.
 */
export const aad = {
  missingParam: (name: string): AadError => ({
    status: 400,
    error: 'invalid_request',
    code: 900144,
    message: `The request body must contain the following parameter: '${name}'.`,
  }),
  unsupportedGrant: (grant: string): AadError => ({
    status: 400,
    error: 'unsupported_grant_type',
    code: 70003,
    message: `The app requested an unsupported grant type '${grant}'.`,
  }),
  tenantNotFound: (tenant: string): AadError => ({
    status: 400,
    error: 'invalid_request',
    code: 90002,
    message: `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  }),
  noTenantInfo: (): AadError => ({
    status: 400,
    error: 'invalid_request',
    code: 50059,
    message:
      'No tenant-identifying information found in either the request or implied by any provided credentials.',
  }),
  appNotFound: (appId: string, directory: string): AadError => ({
    status: 400,
    error: 'unauthorized_client',
    code: 700016,
    message: `Application with identifier '${appId}' was not found in the directory '${directory}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
  }),
  missingSecret: (): AadError => ({
    status: 401,
    error: 'invalid_client',
    code: 7000218,
    message: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  }),
  missingSecretClientCredentials: (): AadError => ({
    status: 400,
    error: 'invalid_request',
    code: 90014,
    message: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  }),
  invalidSecret: (appId: string): AadError => ({
    status: 401,
    error: 'invalid_client',
    code: 7000215,
    message: `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${appId}'.`,
  }),
  expiredSecret: (appId: string): AadError => ({
    status: 401,
    error: 'invalid_client',
    code: 7000222,
    message: `The provided client secret keys for app '${appId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
  }),
  badCode: (): AadError => ({
    status: 400,
    error: 'invalid_grant',
    code: 70008,
    message:
      'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
  }),
  codeRedeemed: (): AadError => ({
    status: 400,
    error: 'invalid_grant',
    code: 54005,
    message:
      'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
  }),
  redirectMismatch: (given: string, original: string): AadError => ({
    status: 400,
    error: 'invalid_grant',
    code: 500112,
    message: `The reply address '${given}' does not match the reply address '${original}' provided when requesting Authorization code.`,
  }),
  resourceMismatch: (): AadError => ({
    status: 400,
    error: 'invalid_grant',
    code: 9002313,
    message: "The 'resource' parameter does not match the resource of the authorization request.",
  }),
  resourceNotFound: (resource: string, tenantName: string): AadError => ({
    status: 400,
    error: 'invalid_resource',
    code: 500011,
    message: `The resource principal named ${resource} was not found in the tenant named ${tenantName}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
  }),
  resourceNotRequested: (): AadError => ({
    status: 400,
    error: 'invalid_client',
    code: 650057,
    message:
      "Invalid resource. The client has requested access to a resource which is not listed in the requested permissions in the client's application registration.",
  }),
  consentRequired: (appId: string, displayName: string): AadError => ({
    status: 400,
    error: 'invalid_grant',
    suberror: 'consent_required',
    code: 65001,
    message: `The user or administrator has not consented to use the application with ID '${appId}' named '${displayName}'. Send an interactive authorization request for this user and resource.`,
  }),
  missingServicePrincipal: (appId: string, tenantId: string): AadError => ({
    status: 401,
    error: 'invalid_client',
    code: 7000229,
    message: `The client application ${appId} is missing service principal in the tenant ${tenantId}. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119`,
  }),
  pkceMismatch: (): AadError => ({
    status: 400,
    error: 'invalid_grant',
    code: 501481,
    message: 'The Code_Verifier does not match the code_challenge supplied in the authorization request.',
  }),
  flowExpired: (): AadError => ({
    status: 400,
    error: 'invalid_request',
    code: 50089,
    message: 'Authentication failed due to flow token expired.',
  }),
  invalidScope: (scope: string): AadError => ({
    status: 400,
    error: 'invalid_scope',
    code: 70011,
    message: `The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`,
  }),
};

// ---------------------------------------------------------------- Microsoft Graph

export function graphErrorBody(
  code: string,
  message: string,
  nowMs: number,
  req?: Request,
  extra: Record<string, unknown> = {},
  requestId: string = guid(),
): Record<string, unknown> {
  return {
    error: {
      code,
      message,
      ...extra,
      innerError: {
        date: graphDate(nowMs),
        'request-id': requestId,
        'client-request-id': req?.get('client-request-id') ?? requestId,
      },
    },
  };
}

export function sendGraphError(
  req: Request,
  res: Response,
  nowMs: number,
  status: number,
  code: string,
  message: string,
  extra: Record<string, unknown> = {},
): void {
  const requestId = res.get('request-id') ?? guid();
  res.status(status).json(graphErrorBody(code, message, nowMs, req, extra, requestId));
}

// ---------------------------------------------------------------- Cyclr

export function sendCyclrError(res: Response, status: number, message: string): void {
  res.status(status).json({ Message: message });
}

// ---------------------------------------------------------------- fault injection defaults

const GRAPH_CODES: Record<number, string> = {
  400: 'BadRequest',
  401: 'InvalidAuthenticationToken',
  403: 'Authorization_RequestDenied',
  404: 'Request_ResourceNotFound',
  409: 'Request_MultipleObjectsWithSameKeyValue',
  429: 'TooManyRequests',
  500: 'InternalServerError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'GatewayTimeout',
};

/** A body in the service's own format for an injected status fault with no explicit body. */
export function defaultFaultBody(
  service: Service,
  status: number,
  nowMs: number,
  req: Request,
  res: Response,
): unknown {
  switch (service) {
    case 'graph':
      return graphErrorBody(
        GRAPH_CODES[status] ?? 'UnknownError',
        status === 429 ? 'Too many requests. Please try again later.' : `Injected fault ${status}.`,
        nowMs,
        req,
        {},
        res.get('request-id') ?? guid(),
      );
    case 'identity': {
      const transient = status >= 500 || status === 429;
      return aadErrorBody(
        transient
          ? {
              status,
              error: 'temporarily_unavailable',
              code: 90033,
              message: 'A transient error has occurred. Please try again.',
            }
          : { status, error: 'invalid_request', code: 90000, message: `Injected fault ${status}.` },
        aadTrailer(nowMs, req),
      );
    }
    case 'cyclr-api':
      return {
        Message: status === 429 ? 'Too many requests.' : `An error has occurred. (injected ${status})`,
      };
    case 'cyclr-app':
      return `<!DOCTYPE html><html><head><title>Error</title></head><body><h1>Error ${status}</h1></body></html>`;
  }
}
