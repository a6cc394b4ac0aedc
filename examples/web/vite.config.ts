// Vite: builds the app's two pages into dist/ (index.html, and accept.html,
// the page invitation emails link to; `vite` and `vite preview` serve it at
// /accept as well); `vite preview` serves them on their own origin, apart
// from the gateway's, so the browser applies CORS for real.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const page = (name: string) => fileURLToPath(new URL(name, import.meta.url));

export default defineConfig({
  build: {
    outDir: 'dist',
    sourcemap: true,
    rollupOptions: { input: { main: page('index.html'), accept: page('accept.html') } },
  },
  preview: { host: '127.0.0.1', strictPort: true },
});
