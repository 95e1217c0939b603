#!/usr/bin/env node
// The ops CLI: the package's bin `dynamics-onboarding <verb> ...` (dist/cli/main.js), or
// `npm run client -- <verb> ...` from source. Input is validated before anything is sent; a bad
// value gets one line naming the flag and the expected form, and exit code 2.
import { Command, CommanderError } from 'commander';
import { WorkflowNotFoundError } from '@temporalio/client';
import { appCommands } from './commands/app';
import { cancelCommand } from './commands/cancel';
import { checkTenantCommand } from './commands/check-tenant';
import { doctorCommand } from './commands/doctor';
import { inspectCommands } from './commands/inspect';
import { offboardCommand } from './commands/offboard';
import { onboardCommand } from './commands/onboard';
import { sendEventCommand } from './commands/send-event';
import { signalCommands } from './commands/signals';
import { signInErrorCommand } from './commands/signin-error';
import { visible } from '../shared/terminal-text';
import { UsageError } from './program';

const program = new Command('dynamics-onboarding')
  .description(
    'Ops CLI for Dynamics CRM Online onboardings (Temporal workflows on task queue dynamics-onboarding)',
  )
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

onboardCommand(program);
signalCommands(program);
inspectCommands(program);
cancelCommand(program);
checkTenantCommand(program);
doctorCommand(program);
offboardCommand(program);
signInErrorCommand(program);
appCommands(program);
sendEventCommand(program);

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exit(err.exitCode === 0 ? 0 : 2);
    }
    if (err instanceof UsageError) {
      console.error(`error: ${visible(err.message)}`);
      process.exit(2);
    }
    if (err instanceof WorkflowNotFoundError) {
      console.error(`error: no such onboarding: ${visible(err.workflowId)}`);
      process.exit(1);
    }
    console.error(`error: ${visible(err instanceof Error ? err.message : String(err))}`);
    process.exit(1);
  }
}

void main();
