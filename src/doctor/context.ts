// What the doctor's checks share: their dependencies, and what earlier checks found that later
// ones build on (a Temporal client that answers, a Graph client that gets a token, the app read).
import type { Client } from '@temporalio/client';
import type { ApplicationRegistration, GraphClient } from '../clients/graph';
import type { Config } from '../config';

export interface DoctorDeps {
  config: Config;
  /** The process environment: which settings were set explicitly. */
  env?: NodeJS.ProcessEnv;
  /** Connects to Temporal (the CLI: connectClient()); a failure is reported, not thrown. */
  temporal: () => Promise<Client>;
  /** Where Temporal was looked for, in words (address, namespace; never a key). */
  temporalTarget?: string;
  /** How long each network check may take (default 10 s). */
  timeoutMs?: number;
}

export interface DoctorState {
  /** Temporal answered, and the namespace exists. */
  client?: Client;
  namespace?: string;
  /** A worker polls the task queue (queries to the app's owner can be answered). */
  workerPolls?: boolean;
  /** The Graph management client got a token. */
  graph?: GraphClient;
  /** The shared app as Graph has it: null when not registered yet; undefined when not read. */
  app?: ApplicationRegistration | null;
}

/**
 * The setup runs on the simulators (the embedded default, or the tests' harness): the identity
 * endpoint is on this machine. Production-only requirements (https, explicit keys) are relaxed.
 */
export function onSimulators(config: Config): boolean {
  try {
    const host = new URL(config.IDENTITY_BASE_URL).hostname;
    return host === '127.0.0.1' || host === 'localhost' || host === '[::1]' || host === '::1';
  } catch {
    return false;
  }
}

/** Resolves with the value, or rejects after `ms` naming what did not answer. */
export async function within<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
