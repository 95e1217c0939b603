// Headers on every answer of the ingress: no MIME sniffing, no framing, no referrer, the public
// pages' Content-Security-Policy (the ops page sets its own), and HSTS when the ingress is
// reached over https.
import type { NextFunction, Request, Response } from 'express';
import { PUBLIC_PAGE_CSP } from './pages';

export function securityHeaders(publicBaseUrl: string) {
  const https = publicBaseUrl.startsWith('https:');
  return (_req: Request, res: Response, next: NextFunction) => {
    res.set({
      'Content-Security-Policy': PUBLIC_PAGE_CSP,
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
    });
    if (https) res.set('Strict-Transport-Security', 'max-age=31536000');
    next();
  };
}
