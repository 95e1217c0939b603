// ApplicationFailure types that activities raise and the workflows act on.
export const FailureTypes = {
  /** Retryable: 5xx, 429, timeouts, dropped connections, replication delay. */
  transient: 'TransientServiceError',
  /** Not retryable: the service rejected the request; a bug or bad configuration. */
  rejected: 'ServiceRejectedRequest',
  /** Not retryable: configuration (credentials, base URLs) must be fixed. */
  configuration: 'ConfigurationError',
  /** Not retryable: the Cyclr account of the onboarding does not exist. */
  cyclrAccountNotFound: 'CyclrAccountNotFound',
  /** Not retryable: the workflow input was invalid. */
  invalidInput: 'InvalidOnboardingInput',
  /** Not retryable: the app registration could not be provided. */
  appRegistrationFailed: 'AppRegistrationFailed',
} as const;

export const NON_RETRYABLE_FAILURES = [
  FailureTypes.rejected,
  FailureTypes.configuration,
  FailureTypes.cyclrAccountNotFound,
  FailureTypes.invalidInput,
  FailureTypes.appRegistrationFailed,
];
