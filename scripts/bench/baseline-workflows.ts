// The baseline: a bare workflow with the onboarding's happy-path shape and nothing else. Three
// activities (the credentials read, the Cyclr connector set-up, the verification read), four local
// activities (the two links and the two notifications of a human wait), two signals each awaited
// with a timer, six search-attribute updates and status queries, on no-op activities: what the
// Temporal server and the SDK cost for that shape, so the product's throughput can be read as a
// ratio of it.
import {
  condition,
  defineQuery,
  defineSignal,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { BaselineActivities } from './baseline-activities';

const stepKey = defineSearchAttributeKey('OnboardingStep', SearchAttributeType.KEYWORD);
const act = proxyActivities<BaselineActivities>({ startToCloseTimeout: '1 minute' });
const local = proxyLocalActivities<BaselineActivities>({ startToCloseTimeout: '10 seconds' });

export const baselineSignal = defineSignal<[string]>('baselineSignal');
export const baselineStatusQuery = defineQuery<{ step: string; link: string | null }>('status');

export interface BaselineResult {
  timeline: { at: string; step: string; event: string }[];
}

export async function benchBaseline(): Promise<BaselineResult> {
  const received = new Set<string>();
  let step = 'registering-app';
  let link: string | null = null;
  const timeline: BaselineResult['timeline'] = [];
  const note = (event: string) => timeline.push({ at: new Date().toISOString(), step, event });
  const enter = (next: string) => {
    step = next;
    upsertSearchAttributes([{ key: stepKey, value: next }]);
    note('entered');
  };
  setHandler(baselineSignal, (name) => {
    received.add(name);
    note(`signal ${name}`);
  });
  setHandler(baselineStatusQuery, () => ({ step, link }));

  enter('registering-app');
  await act.noop('credentials');

  enter('waiting-for-consent');
  link = await local.link('consent');
  await local.noop('notify');
  await condition(() => received.has('consent'), '30 days');

  enter('setting-resource');
  await act.noop('connector');

  enter('exchanging-token');
  link = await local.link('sign-in');
  await local.noop('notify');
  // As the onboarding does: wait 30 s for the sign-in, then poll (a no-op here) and wait again.
  while (!(await condition(() => received.has('sign-in'), '30 seconds'))) await act.noop('poll');

  enter('verifying');
  await act.noop('read');
  enter('verified');
  return { timeline };
}
