# One image for the worker, the ingress and the ops CLI, chosen by the command:
#   docker build -t dynamics-onboarding .
#   docker run --env-file prod.env dynamics-onboarding                       the worker (default)
#   docker run --env-file prod.env -p 8088:8088 dynamics-onboarding ingress  the HTTP ingress
#   docker run --rm --env-file prod.env dynamics-onboarding status acme-42    an ops CLI verb
# Both stages' work is scripts/build-image.mjs; test/package.test.ts runs the same script in a
# clean folder and onboards a customer with its result. docs/operations.md, "Deploying the image".

ARG NODE_IMAGE=node:20-bookworm-slim

# Build: the context is what .dockerignore lets in (sources, lockfile, build scripts). `npm ci`,
# `npm run build` (tsc to dist/, the workflow bundles), then /app with package.json,
# package-lock.json, dist/ and `npm ci --omit=dev`: production dependencies only.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY . .
RUN node scripts/build-image.mjs build /app

# Runtime: /app from the build stage and nothing else; no compiler, no dev dependency, no sources.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    PATH=/app/bin:$PATH \
    INGRESS_HOST=0.0.0.0 \
    INGRESS_PORT=8088 \
    HEALTH_PORT=8081 \
    DATA_DIR=/data
# DATA_DIR only matters when keys are not configured (one container trying it out); set
# SECRET_SEALING_KEYS, STATE_SIGNING_KEY, PAYLOAD_CODEC_KEYS and OPS_TOKEN in production.
RUN mkdir /data && chown node:node /data
WORKDIR /app
COPY --from=build /app /app
USER node
EXPOSE 8081 8088
# The worker's liveness (/healthz on HEALTH_PORT). The ingress container checks its own:
# `node /app/dist/entrypoint.js healthcheck http://127.0.0.1:8088/healthz` (docs/operations.md).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "/app/dist/entrypoint.js", "healthcheck"]
ENTRYPOINT ["node", "/app/dist/entrypoint.js"]
CMD ["worker"]
