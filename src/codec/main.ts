// The codec server on its own (`node dist/codec/main.js`; from source `tsx src/codec/main.ts`), for
// deployments where ops decode histories with the official CLI or the Web UI:
//   temporal workflow show -w <id> --codec-endpoint http://<CODEC_HOST>:<CODEC_PORT>/codecs \
//     --codec-auth "Bearer $CODEC_AUTH_TOKEN"
import { loadConfig } from '../config';
import { temporalTarget } from '../temporal';
import { codecServerOptions, startCodecServer } from './server';

async function main(): Promise<void> {
  const config = loadConfig();
  const { namespace } = temporalTarget();
  const server = await startCodecServer(
    codecServerOptions(config, namespace),
    config.CODEC_PORT,
    config.CODEC_HOST,
  );
  console.log(
    `codec server on http://${config.CODEC_HOST}:${config.CODEC_PORT}/codecs (namespace ${namespace})`,
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => server.close(() => process.exit(0)));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
