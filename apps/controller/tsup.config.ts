import { defineConfig } from 'tsup';
import { DASHBOARD_SCRIPT_FILE, buildDashboardScript } from './src/dashboard/dashboardScript';

export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // The dashboard page's script (browser code, uPlot included), read by the server beside dist/*.js.
  onSuccess: async () => {
    await buildDashboardScript('src/dashboard/page/main.ts', `dist/${DASHBOARD_SCRIPT_FILE}`);
  },
});
