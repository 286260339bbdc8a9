# Quiver server image. Two stages: the first compiles the native addons (better-sqlite3,
# hnswlib-node), builds the default embedding model, the typed client and Quiver Studio (vite and
# tsc are development packages, dropped once they have built); the second carries only what runs.
# Node.js 24: the newest LTS line (supported until April 2028), one of the three .ci/run tests on.
FROM node:24-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# package.json's allowScripts already keeps onnxruntime-node from fetching CUDA binaries on npm
# 11.16 and later; this covers an image whose npm is older.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund
COPY . .
RUN node scripts/build-client.mjs && node scripts/build-studio.mjs && test -f dist/studio/index.html \
  && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production QUIVER_HOST=0.0.0.0 QUIVER_PORT=8080 QUIVER_DATA_DIR=/data
COPY --from=build /app /app
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8080
VOLUME ["/data"]
CMD ["node", "--import", "tsx", "src/main.ts"]
