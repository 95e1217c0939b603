// The container image's entrypoint (`node dist/entrypoint.js <command>`): one image, the process
// chosen by the command. `worker` (the default), `ingress`, `codec-server`, `healthcheck [url]`
// (the image's HEALTHCHECK: exit 0 when the URL, by default the worker's /healthz, answers 200),
// or an ops CLI verb, as `cli <verb> ...` or just `<verb> ...` (`status acme-42`).
// The chosen module runs in this process, so signals reach it directly.
/* eslint-disable @typescript-eslint/no-require-imports -- the chosen entry module is loaded on demand */
export {};

const [command = 'worker', ...rest] = process.argv.slice(2);

async function healthcheck(url: string): Promise<void> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    process.exit(res.status === 200 ? 0 : 1);
  } catch {
    process.exit(1);
  }
}

function cli(args: string[]): void {
  // The CLI parses process.argv: make it look as if it had been started as the bin.
  process.argv = [process.argv[0], require.resolve('./cli/main'), ...args];
  require('./cli/main');
}

switch (command) {
  case 'worker':
    require('./worker');
    break;
  case 'ingress':
    require('./ingress/main');
    break;
  case 'codec-server':
    require('./codec/main');
    break;
  case 'healthcheck':
    void healthcheck(rest[0] ?? `http://127.0.0.1:${process.env.HEALTH_PORT || 8081}/healthz`);
    break;
  case 'cli':
  case 'dynamics-onboarding':
    cli(rest);
    break;
  default:
    cli([command, ...rest]);
}
