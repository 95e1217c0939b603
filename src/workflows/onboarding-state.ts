// The onboarding's visible state: what the `status` query returns, the timeline, and the
// OnboardingStep search attribute kept in step with it.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { ClassifiedError } from '../shared/aadsts';
import { ONBOARDING_STEP_SEARCH_ATTRIBUTE } from '../shared/names';
import type { LastError, OnboardingStatus } from '../shared/status';
import type { Step, WaitingFor } from '../shared/steps';
import type { ValidOnboardingInput } from '../shared/schemas';

export const onboardingStepKey = defineSearchAttributeKey(
  ONBOARDING_STEP_SEARCH_ATTRIBUTE,
  SearchAttributeType.KEYWORD,
);

const TIMELINE_LIMIT = 200;

export class OnboardingState {
  readonly status: OnboardingStatus;

  constructor(input: ValidOnboardingInput) {
    this.status = {
      workflowId: workflowInfo().workflowId,
      cyclrAccountId: input.cyclrAccountId,
      customerTenant: input.customerTenant,
      resourceUrl: input.resourceUrl,
      step: 'registering-app',
      waitingFor: null,
      waitingReason: null,
      waitDeadline: null,
      consentUrl: null,
      signInUrl: null,
      signInAttempt: 0,
      appId: null,
      accountConnectorId: null,
      lastError: null,
      timeline: [],
    };
  }

  /** Moves to a step: status, timeline and the OnboardingStep search attribute together. */
  enter(step: Step, detail?: string): void {
    const changed = step !== this.status.step || this.status.timeline.length === 0;
    this.status.step = step;
    this.status.waitingFor = null;
    this.status.waitingReason = null;
    this.status.waitDeadline = null;
    if (changed) upsertSearchAttributes([{ key: onboardingStepKey, value: step }]);
    this.note('entered', detail);
  }

  waitFor(what: WaitingFor, reason: string, deadline: Date | null): void {
    this.status.waitingFor = what;
    this.status.waitingReason = reason;
    this.status.waitDeadline = deadline ? deadline.toISOString() : null;
    this.note(`waiting for ${what}`, reason);
  }

  stopWaiting(): void {
    this.status.waitingFor = null;
    this.status.waitingReason = null;
    this.status.waitDeadline = null;
  }

  note(event: string, detail?: string): void {
    const timeline = this.status.timeline;
    timeline.push({
      at: new Date().toISOString(),
      step: this.status.step,
      event,
      ...(detail ? { detail } : {}),
    });
    if (timeline.length > TIMELINE_LIMIT) timeline.splice(1, timeline.length - TIMELINE_LIMIT);
  }

  recordError(error: ClassifiedError): LastError {
    const lastError: LastError = {
      at: new Date().toISOString(),
      step: this.status.step,
      code: error.code,
      name: error.name,
      class: error.class,
      message: error.verbatim,
      remediation: error.remediation,
    };
    this.status.lastError = lastError;
    this.note(
      'error',
      `${error.code ? `AADSTS${error.code} ` : ''}${error.name} (${error.class}): ${error.remediation}`,
    );
    return lastError;
  }

  snapshot(): OnboardingStatus {
    return { ...this.status, timeline: [...this.status.timeline] };
  }
}
