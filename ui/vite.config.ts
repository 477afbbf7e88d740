import { defineConfig } from "vitest/config";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { fileURLToPath } from "node:url";

export default defineConfig({
  plugins: [svelte()],
  resolve: {
    alias: { $lib: fileURLToPath(new URL("./src/lib", import.meta.url)) },
    // Svelte's browser build, also under vitest (its server build has no `mount`).
    conditions: process.env.VITEST ? ["browser"] : undefined,
  },
  // Tauri serves the built files from its own origin: relative asset paths keep them loadable.
  base: "./",
  clearScreen: false,
  server: {
    host: "127.0.0.1",
    port: 5173,
    strictPort: true,
    // The demo backend reads the bundled agency vocabularies from ../assets.
    fs: { allow: [".."] },
  },
  preview: { host: "127.0.0.1", port: 4173, strictPort: true },
  // Two entries: the field app (index.html, in the Tauri window) and the console (console.html,
  // served by waypoint-server at /console/); they share components and chunks.
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    rollupOptions: { input: { app: "index.html", console: "console.html" } },
  },
  test: {
    environment: "jsdom",
    include: ["tests/unit/**/*.test.ts"],
    setupFiles: ["tests/unit/setup.ts"],
  },
});
