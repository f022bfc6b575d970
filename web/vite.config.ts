import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The API serves the built files from web/dist at http://127.0.0.1:8000/; `npm run dev` proxies
// the API so the page can be worked on with hot reload.
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: { outDir: process.env.IK_WEB_OUT_DIR ?? "dist", emptyOutDir: true, sourcemap: false },
  server: {
    proxy: {
      "/api": { target: "http://127.0.0.1:8000", ws: true },
    },
  },
});
