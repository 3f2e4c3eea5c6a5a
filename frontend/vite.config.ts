import vue from "@vitejs/plugin-vue";
import { defineConfig } from "vitest/config";

// The gateway (`make local`) serves dist/ and answers /api and /config.json; in
// `npm run dev` Vite proxies those to it so both ways use the same origin.
const gateway = process.env.GATEWAY_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [vue()],
  server: {
    proxy: {
      "/api": gateway,
      "/config.json": gateway,
      "/oauth2": gateway,
      "/.well-known": gateway,
      "/logout": gateway,
      // Photos (uploads and reads) and the realtime WebSocket live on the gateway too.
      "/storage": gateway,
      "/images": gateway,
      "/event": { target: gateway, ws: true },
    },
  },
  build: {
    target: "es2022",
    // Small files, hashed names: the gateway and CloudFront can cache them forever.
    assetsInlineLimit: 2048,
  },
  test: {
    include: ["tests/**/*.test.ts"],
    environment: "node",
  },
});
