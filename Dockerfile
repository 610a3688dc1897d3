# syntax=docker/dockerfile:1
# One image, every role: `fleet-rollout start | controller | device-api | webhooks | apiserver | migrate`.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    FLEET_ROLLOUT_DATA_DIR=/var/lib/fleet-rollout
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY drizzle ./drizzle
COPY crds ./crds
# Only `start`, `apiserver` and `migrate` without DATABASE_URL write here (embedded PGlite,
# generated tokens, kubeconfig); the cluster roles write nothing and run on a read-only root.
RUN mkdir -p /var/lib/fleet-rollout && chown 1000:1000 /var/lib/fleet-rollout
# Numeric (the image's `node` user), so the kubelet can check `runAsNonRoot: true`.
USER 1000:1000
EXPOSE 8080 6443
ENTRYPOINT ["node", "bin/fleet-rollout.js"]
CMD ["start"]
