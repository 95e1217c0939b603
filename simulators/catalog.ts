// The Cyclr connector catalog the simulated partner sees (static; not part of mutable state).

export interface ConnectorParameter {
  Id: number;
  Name: string;
  TargetName: string;
  Description: string;
  IsAccountConnectorProperty: boolean;
  IsOptional: boolean;
  IsSensitive: boolean;
  DataType: string;
  Values: unknown[];
}

export interface CatalogConnector {
  Id: number;
  Name: string;
  Description: string;
  /** `Approved` connectors can be installed; others (`Draft`, ...) cannot. */
  Status: string;
  Version: string;
  Icon: null;
  AuthDescription: null;
  AuthType: string;
  OAuth2Type: string;
  AuthScheme: null;
  Parameters: ConnectorParameter[];
  Authentication: { Id: number; AuthName: string; AuthType: string }[];
}

function param(
  Id: number,
  Name: string,
  Description: string,
  opts: { account?: boolean; optional?: boolean; sensitive?: boolean } = {},
): ConnectorParameter {
  return {
    Id,
    Name,
    TargetName: Name,
    Description,
    IsAccountConnectorProperty: opts.account ?? true,
    IsOptional: opts.optional ?? false,
    IsSensitive: opts.sensitive ?? false,
    DataType: 'Text',
    Values: [],
  };
}

export const DYNAMICS_CONNECTOR_ID = 3400;

export const CATALOG: CatalogConnector[] = [
  {
    Id: DYNAMICS_CONNECTOR_ID,
    Name: 'Dynamics CRM Online',
    Description: 'Microsoft Dynamics 365 CRM (Dataverse) connector.',
    Status: 'Approved',
    Version: '1.0',
    Icon: null,
    AuthDescription: null,
    AuthType: 'OAuth2',
    OAuth2Type: 'AuthorisationCode',
    AuthScheme: null,
    Parameters: [
      param(
        34001,
        'Resource',
        'The domain of your Microsoft Dynamics CRM account url. For example, https://example.crm.dynamics.com',
      ),
      param(34002, 'ClientId', 'Application (client) ID of the Entra app registration.', { optional: true }),
      param(34003, 'ClientSecret', 'Client secret value of the Entra app registration.', {
        optional: true,
        sensitive: true,
      }),
    ],
    Authentication: [{ Id: 3401, AuthName: 'OAuth2', AuthType: 'OAuth2' }],
  },
  {
    Id: 1200,
    Name: 'Salesforce',
    Description: 'Salesforce CRM connector.',
    Status: 'Approved',
    Version: '2.0',
    Icon: null,
    AuthDescription: null,
    AuthType: 'OAuth2',
    OAuth2Type: 'AuthorisationCode',
    AuthScheme: null,
    Parameters: [
      param(12001, 'Domain', 'Your Salesforce My Domain, e.g. https://example.my.salesforce.com'),
      param(12002, 'EndpointUrl', 'API endpoint (partner level).', { account: false }),
    ],
    Authentication: [{ Id: 1201, AuthName: 'OAuth2', AuthType: 'OAuth2' }],
  },
  {
    Id: 5122,
    Name: 'Pipedrive',
    Description: 'Pipedrive CRM connector (draft in this partner).',
    Status: 'Draft',
    Version: '1.0',
    Icon: null,
    AuthDescription: null,
    AuthType: 'ApiKey',
    OAuth2Type: 'Unknown',
    AuthScheme: null,
    Parameters: [],
    Authentication: [{ Id: 5123, AuthName: 'API Key', AuthType: 'ApiKey' }],
  },
];

export function findConnector(idOrName: string): CatalogConnector | undefined {
  if (/^\d+$/.test(idOrName)) return CATALOG.find((c) => c.Id === Number(idOrName));
  const name = idOrName.toLowerCase();
  return CATALOG.find((c) => c.Name.toLowerCase() === name);
}

/** The connector summary embedded in account connector objects. */
export function connectorSummary(c: CatalogConnector): Record<string, unknown> {
  return {
    Id: c.Id,
    Name: c.Name,
    Description: c.Description,
    Status: c.Status,
    Version: c.Version,
    Icon: c.Icon,
    AuthDescription: c.AuthDescription,
    AuthType: c.AuthType,
    OAuth2Type: c.OAuth2Type,
    AuthScheme: c.AuthScheme,
    Parameters: c.Parameters,
  };
}

export type CatalogOverrides = Record<string, { removed?: boolean; Status?: string }>;

/** The catalog as the partner sees it now: removed connectors left out, Status overrides applied. */
export function listedCatalog(overrides: CatalogOverrides): CatalogConnector[] {
  return CATALOG.filter((c) => !overrides[String(c.Id)]?.removed).map((c) => {
    const status = overrides[String(c.Id)]?.Status;
    return status ? { ...c, Status: status } : c;
  });
}

/** A connector of the listed catalog by id or name (case-insensitive). */
export function findListedConnector(
  overrides: CatalogOverrides,
  idOrName: string,
): CatalogConnector | undefined {
  const c = findConnector(idOrName);
  return c && listedCatalog(overrides).find((x) => x.Id === c.Id);
}
