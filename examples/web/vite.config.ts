// Vite: builds the app into dist/; `vite preview` serves it on its own
// origin, apart from the gateway's, so the browser applies CORS for real.
import { defineConfig } from 'vite';

export default defineConfig({
  build: { outDir: 'dist', sourcemap: true },
  preview: { host: '127.0.0.1', strictPort: true },
});
