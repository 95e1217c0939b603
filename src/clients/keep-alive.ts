// Kept-alive connections for every outgoing call: undici's Agent for the service clients, Node's
// agents for the demo's browser (src/demo/person.ts); 64 connections per host. Both close an idle
// connection a second before the server's announced Keep-Alive timeout instead of reusing one the
// server is closing (ECONNRESET), and after a minute idle in any case. Requests set their own
// timeout.
import http from 'node:http';
import https from 'node:https';
import { Agent } from 'undici';

const IDLE_MS = 60_000;
const options = { keepAlive: true, maxSockets: 64, timeout: IDLE_MS };

export const keepAliveAgents = { http: new http.Agent(options), https: new https.Agent(options) };

export const keepAliveDispatcher = new Agent({
  connections: 64,
  keepAliveTimeout: IDLE_MS,
  keepAliveMaxTimeout: IDLE_MS,
  keepAliveTimeoutThreshold: 1000, // undici's default is 2 s; Node's agent uses 1 s
});
