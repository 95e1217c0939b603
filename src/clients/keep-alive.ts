// Kept-alive connections for every outgoing call: Node's agents, shared by the service clients
// (axios) and the demo's browser (src/demo/person.ts); 64 connections per host. An idle
// connection is closed a second before the server's announced Keep-Alive timeout instead of being
// reused while the server closes it (ECONNRESET), and after a minute idle in any case. Requests
// set their own timeout.
import http from 'node:http';
import https from 'node:https';

const IDLE_MS = 60_000;
const options = { keepAlive: true, maxSockets: 64, timeout: IDLE_MS };

export const keepAliveAgents = { http: new http.Agent(options), https: new https.Agent(options) };
