// Workflow interceptors (bundled into the workflow sandbox, so deterministic and free of I/O):
// product metrics through the SDK's replay-safe workflow metricMeter, the current step and the
// account on every workflow log line, and the step passed to activities in a header. The step is
// read from the OnboardingStep search attribute the workflow keeps current, so the workflow code
// itself needs no change.
import { defaultPayloadConverter, defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import {
  ContinueAsNew,
  isCancellation,
  metricMeter,
  workflowInfo,
  type Next,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { classifyAadsts } from '../shared/aadsts';
import { consentFailedSignal, signInCompletedSignal, signInErrorReportedSignal } from '../shared/messages';
import {
  accountIdFromWorkflowId,
  ONBOARDING_STEP_SEARCH_ATTRIBUTE,
  ONBOARDING_WORKFLOW_TYPE,
} from '../shared/names';
import type { OnboardingResult } from '../shared/status';
import { HUMAN_WAIT_STEPS, Metrics, STEP_HEADER } from './metric-names';

const stepKey = defineSearchAttributeKey(ONBOARDING_STEP_SEARCH_ATTRIBUTE, SearchAttributeType.KEYWORD);

/** Notices step changes at each interaction with the server and records time spent per step. */
class StepTracker {
  step: string | undefined;
  /** The step before the current one: where a failed or cancelled onboarding was. */
  previous: string | undefined;
  private since = 0;
  private readonly onboarding = workflowInfo().workflowType === ONBOARDING_WORKFLOW_TYPE;
  readonly initialStep = this.onboarding ? 'registering-app' : undefined;

  observe(): string | undefined {
    if (!this.onboarding) return undefined;
    const current = workflowInfo().typedSearchAttributes.get(stepKey);
    if (current === this.step) return current;
    const now = Date.now();
    if (this.step !== undefined) {
      const seconds = (now - this.since) / 1000;
      metricMeter.createHistogram(Metrics.stepDuration, 'float', 's').record(seconds, { step: this.step });
      const waitingFor = HUMAN_WAIT_STEPS[this.step];
      if (waitingFor)
        metricMeter
          .createHistogram(Metrics.humanWait, 'float', 's')
          .record(seconds, { waiting_for: waitingFor });
    }
    if (current !== undefined) metricMeter.createCounter(Metrics.stepEntered).add(1, { step: current });
    this.previous = this.step;
    this.step = current;
    this.since = now;
    return current;
  }
}

class Inbound implements WorkflowInboundCallsInterceptor {
  constructor(private readonly tracker: StepTracker) {}

  // Not async, and one `then` for both outcomes: every promise made in a workflow costs a stack
  // capture (the SDK's stack traces), and an async wrapper makes two.
  execute(
    input: Parameters<NonNullable<WorkflowInboundCallsInterceptor['execute']>>[0],
    next: Next<WorkflowInboundCallsInterceptor, 'execute'>,
  ): Promise<unknown> {
    if (workflowInfo().workflowType !== ONBOARDING_WORKFLOW_TYPE) return next(input);
    // A run continued as new is the same onboarding: counted once, when it started.
    if (!workflowInfo().continuedFromExecutionRunId) metricMeter.createCounter(Metrics.started).add(1);
    return next(input).then(
      (value) => {
        const result = value as OnboardingResult;
        this.tracker.observe();
        if (result.outcome === 'verified') metricMeter.createCounter(Metrics.verified).add(1);
        else
          metricMeter
            .createCounter(Metrics.expired)
            .add(1, { waiting_for: result.expiredWhile ?? 'unknown' });
        return result;
      },
      (err: unknown) => {
        if (err instanceof ContinueAsNew) throw err;
        this.tracker.observe();
        const where = this.tracker.previous ?? this.tracker.step ?? 'none';
        metricMeter
          .createCounter(isCancellation(err) ? Metrics.cancelled : Metrics.failed)
          .add(1, { step: where });
        throw err;
      },
    );
  }

  // Not async, as execute.
  handleSignal(
    input: Parameters<NonNullable<WorkflowInboundCallsInterceptor['handleSignal']>>[0],
    next: Next<WorkflowInboundCallsInterceptor, 'handleSignal'>,
  ): Promise<void> {
    this.tracker.observe();
    const arg = input.args[0] as
      { ok?: boolean; error?: unknown; errorDescription?: unknown; text?: unknown } | undefined;
    const reportsError =
      (input.signalName === signInCompletedSignal.name && arg?.ok === false) ||
      input.signalName === consentFailedSignal.name ||
      input.signalName === signInErrorReportedSignal.name;
    if (reportsError && arg) {
      const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 4000) : undefined);
      const error = classifyAadsts(text(arg.errorDescription) ?? text(arg.text), {}, text(arg.error));
      metricMeter
        .createCounter(Metrics.aadsts)
        .add(1, { code: error.code === null ? 'none' : `AADSTS${error.code}`, class: error.class });
    }
    return next(input);
  }
}

class Outbound implements WorkflowOutboundCallsInterceptor {
  constructor(private readonly tracker: StepTracker) {}

  private withStep<T extends { headers: Record<string, unknown> }>(input: T): T {
    const step = this.tracker.observe();
    return step === undefined
      ? input
      : { ...input, headers: { ...input.headers, [STEP_HEADER]: defaultPayloadConverter.toPayload(step) } };
  }

  scheduleActivity: WorkflowOutboundCallsInterceptor['scheduleActivity'] = (input, next) =>
    next(this.withStep(input));

  scheduleLocalActivity: WorkflowOutboundCallsInterceptor['scheduleLocalActivity'] = (input, next) =>
    next(this.withStep(input));

  startTimer: WorkflowOutboundCallsInterceptor['startTimer'] = (input, next) => {
    this.tracker.observe();
    return next(input);
  };

  getLogAttributes: WorkflowOutboundCallsInterceptor['getLogAttributes'] = (input, next) => {
    const account = accountIdFromWorkflowId(workflowInfo().workflowId);
    // Before its first step is recorded the onboarding is registering the app (as status() says).
    const step = this.tracker.observe() ?? this.tracker.initialStep;
    return next({
      ...input,
      ...(account ? { account } : {}),
      ...(step ? { step } : {}),
    });
  };
}

export const interceptors: WorkflowInterceptorsFactory = () => {
  const tracker = new StepTracker();
  return { inbound: [new Inbound(tracker)], outbound: [new Outbound(tracker)] };
};
