// The onboarding's visible state: what the `status` query returns, the timeline, and the
// OnboardingStep search attribute kept in step with it. Bounded whatever happens: the timeline
// keeps its last entries, and an event repeated back to back is counted, not added again.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { ClassifiedError } from '../shared/aadsts';
import { ONBOARDING_STEP_SEARCH_ATTRIBUTE } from '../shared/names';
import type { LastError, OnboardingStatus, TenantCheck } from '../shared/status';
import type { Step, WaitingFor } from '../shared/steps';
import type { ValidOnboardingInput } from '../shared/schemas';

export const onboardingStepKey = defineSearchAttributeKey(
  ONBOARDING_STEP_SEARCH_ATTRIBUTE,
  SearchAttributeType.KEYWORD,
);

const TIMELINE_LIMIT = 200;

export class OnboardingState {
  readonly status: OnboardingStatus;

  /** A fresh onboarding, or the status a continued run carried over. */
  constructor(input: ValidOnboardingInput, carried?: OnboardingStatus) {
    this.status = carried ?? {
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
      tenantCheck: null,
      timeline: [],
    };
    if (!carried) upsertSearchAttributes([{ key: onboardingStepKey, value: this.status.step }]);
  }

  /** Moves to a step: status, timeline and the OnboardingStep search attribute together. */
  enter(step: Step, detail?: string): void {
    const changed = step !== this.status.step;
    this.status.step = step;
    this.stopWaiting();
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

  /** Adds to the timeline; the same event and detail as the last entry only counts up its repeats. */
  note(event: string, detail?: string): void {
    const timeline = this.status.timeline;
    const last = timeline[timeline.length - 1];
    if (last && last.event === event && last.detail === detail && last.step === this.status.step) {
      last.repeats = (last.repeats ?? 1) + 1;
      last.lastAt = new Date().toISOString();
      return;
    }
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

  recordTenantCheck(check: TenantCheck): void {
    this.status.tenantCheck = check;
    this.note('tenant checked', `${check.verdict}: ${check.message}`);
  }

  snapshot(): OnboardingStatus {
    return { ...this.status, timeline: this.status.timeline.map((t) => ({ ...t })) };
  }
}
