// How many frames a stack captured in the workflow sandbox keeps. The SDK captures a stack for
// every promise workflow code makes (for its stack-trace query) and formats and source-maps every
// frame: that capture was the largest cost of the workflow thread, and the onboarding's promises
// are made deeper than a bare workflow's (its helpers and interceptors). Four frames cut the
// workflow thread's CPU per onboarding by about a sixth (measured with `npm run bench`).
// What is kept: an error's throw site and three callers; in the stack-trace query, each pending
// promise's innermost four frames, which for our own async steps still name the wait at its
// source line (waitForConsent, humanWait; test/onboarding.test.ts). What an onboarding waits for,
// and why, is the status query's job.
//
// Set once per workflow thread, before the SDK freezes the sandbox's globals: the worker preloads
// this module (preload.ts).
export const WORKFLOW_STACK_TRACE_LIMIT = 4;

Error.stackTraceLimit = WORKFLOW_STACK_TRACE_LIMIT;
