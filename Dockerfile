# One image for every zap service; the command picks the service (see compose.yaml).
# Only the four services' production dependencies are installed: no embedded PostgreSQL, TypeScript,
# test or bench tooling (docs/deploying.md records the size).
FROM oven/bun:1.4.5 AS deps
WORKDIR /app
COPY package.json bun.lock bunfig.toml ./
COPY patches patches
COPY lib/package.json lib/
COPY sql/package.json sql/
COPY api/package.json api/
COPY hooks/package.json hooks/
COPY processor/package.json processor/
COPY worker/package.json worker/
COPY cli/package.json cli/
COPY standalone/package.json standalone/
COPY testkit/package.json testkit/
COPY bench/package.json bench/
RUN bun install --frozen-lockfile --production \
      --filter @zap/api --filter @zap/hooks --filter @zap/processor --filter @zap/worker \
  # Elysia lists TypeScript and Bun's types as optional peers, and Bun installs them; nothing runs them.
  && rm -rf node_modules/.bun/typescript@* node_modules/.bun/bun-types@* node_modules/.bun/@types+*

FROM oven/bun:1.4.5
WORKDIR /app
# JavaScriptCore without its FTL tier, and a heap that grows to 1.6x what survived the last collection
# (docs/performance.md); the `start:*` scripts set the same.
ENV NODE_ENV=production BUN_JSC_useFTLJIT=0 BUN_JSC_heapGrowthMaxIncrease=0.6
COPY --from=deps /app/node_modules node_modules
COPY --from=deps /app/lib/node_modules lib/node_modules
COPY --from=deps /app/sql/node_modules sql/node_modules
COPY --from=deps /app/api/node_modules api/node_modules
COPY --from=deps /app/hooks/node_modules hooks/node_modules
COPY --from=deps /app/processor/node_modules processor/node_modules
COPY --from=deps /app/worker/node_modules worker/node_modules
COPY package.json bunfig.toml ./
COPY lib lib
COPY sql sql
COPY api api
COPY hooks hooks
COPY processor processor
COPY worker worker
USER bun
EXPOSE 3001 3002
CMD ["bun", "api/src/main.ts"]
