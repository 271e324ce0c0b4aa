// Builds the console's single-page app (web/) into dist/web, which the console server serves.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('./web'),
  base: '/',
  plugins: [react()],
  build: {
    outDir: here('./dist/web'),
    emptyOutDir: true,
    // React, Mantine and React Router in the entry chunk; the charts load with a function's page.
    chunkSizeWarningLimit: 900,
  },
});
