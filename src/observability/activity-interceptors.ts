// Activity interceptors: the onboarding's step (sent by the workflow interceptors in a header) and
// account on every activity log line, so a line can be traced to one customer and one step.
import type { Context } from '@temporalio/activity';
import { defaultPayloadConverter } from '@temporalio/common';
import type { ActivityInterceptors } from '@temporalio/worker';
import { accountIdFromWorkflowId } from '../shared/names';
import { STEP_HEADER } from './metric-names';

export function productActivityInterceptors(ctx: Context): ActivityInterceptors {
  let step: string | undefined;
  return {
    inbound: {
      async execute(input, next) {
        const header = input.headers[STEP_HEADER];
        try {
          step = header ? defaultPayloadConverter.fromPayload<string>(header) : undefined;
        } catch {
          step = undefined; // an unreadable header must never fail the activity
        }
        // Logged here rather than by the SDK (see SdkLogger), so the line carries the step.
        ctx.log.debug('Activity started');
        return next(input);
      },
    },
    outbound: {
      getLogAttributes(input, next) {
        const account = accountIdFromWorkflowId(ctx.info.workflowExecution?.workflowId ?? '');
        return next({ ...input, ...(account ? { account } : {}), ...(step ? { step } : {}) });
      },
    },
  };
}
