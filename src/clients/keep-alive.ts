// The HTTP agents every outgoing call shares (the worker's clients, the demo's browser): kept-alive
// connections, 64 per host. The timeout makes Node's agent close an idle connection a second
// before the server's announced Keep-Alive timeout (it ignores the hint without one) instead of
// reusing a connection the server is closing (ECONNRESET), and after a minute idle in any case.
// Requests set their own timeout.
import http from 'node:http';
import https from 'node:https';

const options = { keepAlive: true, maxSockets: 64, timeout: 60_000 };

export const keepAliveAgents = { http: new http.Agent(options), https: new https.Agent(options) };
