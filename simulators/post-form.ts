// One form POST from a simulator to another service (Cyclr redeeming an authorization code at the
// identity simulator), on node:http with kept-alive connections. Not fetch: under a benchmark wave
// every sign-in makes one, on the machine being measured, and fetch cost several times the CPU.
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

export interface FormReply {
  status: number;
  text: string;
}

/** POSTs `form` (application/x-www-form-urlencoded); rejects on a transport failure or timeout. */
export function postForm(url: string, form: URLSearchParams, timeoutMs: number): Promise<FormReply> {
  const target = new URL(url);
  const https = target.protocol === 'https:';
  const body = form.toString();
  return new Promise((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(
      target,
      {
        method: 'POST',
        agent: https ? agents.https : agents.http,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          accept: 'application/json',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer in ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end(body);
  });
}
