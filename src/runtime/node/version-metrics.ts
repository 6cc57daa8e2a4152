import type { MetricsRegistry } from '../../http/metrics/registry.ts';
import type { FleetController } from './fleet-controller.ts';

/**
 * `honnx_model_version_info{function, version, role}`: 1 for the version each function serves (role "active") and
 * the one it would roll back to ("previous"), 0 for versions it served earlier, so that a dashboard can join every
 * other metric of a function to the version that produced it and see each swap.
 */
export function registerVersionMetrics(registry: MetricsRegistry, fleet: FleetController): void {
  const seen = new Set<string>();
  registry.gauge({
    name: 'honnx_model_version_info',
    help: 'Model versions of each function: 1 for the active and previous version, 0 for earlier ones.',
    labelNames: ['function', 'version', 'role'],
    collect(gauge) {
      const current = new Set<string>();
      for (const [name, state] of Object.entries(fleet.describe())) {
        current.add(JSON.stringify([name, state.active, 'active']));
        if (state.previous) current.add(JSON.stringify([name, state.previous, 'previous']));
      }
      for (const key of new Set([...seen, ...current])) {
        const [functionName, version, role] = JSON.parse(key) as string[];
        gauge.set({ function: functionName, version, role }, current.has(key) ? 1 : 0);
        seen.add(key);
      }
    },
  });
}
