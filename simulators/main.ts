// Runs the simulators standalone: SIM_PORT (default 8089), SIM_HOST (default 127.0.0.1),
// SIM_STATE_FILE (optional JSON file that keeps the simulated world across restarts), SIM_PUBLIC_URL
// (optional origin of a front, e.g. a TLS terminator, that forwards to them: see the README).
import { startSimulators } from './server.js';

async function main(): Promise<void> {
  const port = Number(process.env.SIM_PORT ?? 8089);
  const host = process.env.SIM_HOST || '127.0.0.1';
  const stateFile = process.env.SIM_STATE_FILE || undefined;
  const publicUrl = process.env.SIM_PUBLIC_URL || undefined;
  const sims = await startSimulators({ port, host, stateFile, publicUrl });
  console.log(
    `simulators listening on ${sims.listenUrl} (login, graph, cyclr-api, cyclr-app, _sim)${publicUrl ? ` public=${sims.url}` : ''}${stateFile ? ` state=${stateFile}` : ''}`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    sims.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`simulators: error while stopping on ${signal}`, err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error('simulators failed to start', err);
  process.exit(1);
});
