# One image for the controller and the injected agent: Node.js 24 and the MariaDB client
# programs the agent runs (mariadb-dump, mariadb; coreutils' stdbuf comes with the base).

# The sources with their types erased (tsc -p tsconfig.build.json): the image runs plain
# JavaScript, so Node's type stripper is never loaded (~37 MiB less RSS in the agent).
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY cli ./cli
COPY common ./common
COPY controller ./controller
COPY agent ./agent
RUN npx tsc -p tsconfig.build.json

FROM node:24-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends mariadb-client ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY --from=build /src/dist ./dist
# glibc: big buffers from mmap and returned at once, and few arenas; V8: a 1 MiB young
# generation, collected often while it is cheap. Together with the build above these take the
# agent's peak RSS for a 400 MiB dump from ~200 to ~140 MiB (bench/mariadb-backup.bench.ts
# measures the agent with exactly this environment).
ENV MALLOC_MMAP_THRESHOLD_=262144 MALLOC_ARENA_MAX=2 NODE_OPTIONS=--max-semi-space-size=1
USER 10001:10001
ENTRYPOINT ["node", "/app/dist/bin/sidestash.js"]
