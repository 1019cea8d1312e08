import { defineConfig } from "vite";

// Built into the Python package, which the API function serves at /console/ (herald dev and Lambda).
export default defineConfig({
  base: "./",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "../functions/herald/console_static",
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2020",
    // No inline polyfill script: the CSP allows scripts from this origin only.
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
});
