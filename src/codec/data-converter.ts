// The one data converter every Client and Worker of this product uses: the default payload
// converter, then the AES-GCM codec.
import type { DataConverter } from '@temporalio/common';
import type { Config } from '../config';
import { AesGcmCodec } from './aes-gcm-codec';
import { loadCodecKeys, type CodecKeyRing } from './keys';

export function dataConverterWith(ring: CodecKeyRing): DataConverter {
  return { payloadCodecs: [new AesGcmCodec(ring)] };
}

export function dataConverter(
  config: Pick<Config, 'PAYLOAD_CODEC_KEYS' | 'CODEC_AUTH_TOKEN' | 'DATA_DIR'>,
): DataConverter {
  return dataConverterWith(loadCodecKeys(config));
}
