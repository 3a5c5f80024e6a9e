import { loadPolicyService, type PolicyService } from '@vla/policy-runtime';
import { OpenpiClient, PolicyServer, openpiActionSource } from '@vla/openpi';
import type { Embodiment } from '@vla/robot-core';
import { embodimentOf } from './embodiments.js';
import { serviceEpisodes, sharedEpisodes, type OpenEpisode } from './episodeSource.js';

/** Options of {@link serveCheckpoint}. */
export interface ServeOptions {
  /** TCP port (0 = any free one). */
  readonly port: number;
  /** Interface (default 127.0.0.1). */
  readonly host?: string;
  /** Requests of concurrent clients run as one GPU batch, at most this many. */
  readonly maxBatch?: number;
  /** Euler steps of the sampler (default 10). */
  readonly steps?: number;
  /** Sampler seed (default 0). */
  readonly seed?: number;
  /** Scale of the sampler's starting noise (default 1). */
  readonly noiseScale?: number;
}

/** A running policy server and what it holds. */
export interface ServedCheckpoint {
  /** `ws://host:port`. */
  readonly url: string;
  /** The openpi server. */
  readonly server: PolicyServer;
  /** The policy service behind it (its `stats` count requests and GPU batches). */
  readonly service: PolicyService;
  /** Stops the server and frees the policy. */
  close(): Promise<void>;
}

/**
 * Loads a checkpoint with its processor and serves it with openpi's protocol: each connection is an
 * episode with its own observation history; the metadata names the robot type, cameras, action
 * horizon and the state/action names.
 */
export async function serveCheckpoint(path: string, options: ServeOptions): Promise<ServedCheckpoint> {
  const loaded = await loadPolicyService(path, {
    ...(options.steps !== undefined ? { steps: options.steps } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.noiseScale !== undefined ? { noiseScale: options.noiseScale } : {}),
    ...(options.maxBatch !== undefined ? { maxBatch: options.maxBatch } : {}),
  });
  try {
    const { policy, processor, service } = loaded;
    const embodiment = embodimentOf(processor.json.robotType);
    const server = await PolicyServer.listen({
      host: options.host ?? '127.0.0.1',
      port: options.port,
      embodiment,
      metadata: {
        robot_type: processor.json.robotType,
        cameras: [...processor.json.cameras],
        action_horizon: policy.config.chunkSize,
        state_names: [...processor.json.stateNames],
        action_names: [...processor.json.actionNames],
        control_hz: embodiment.controlHz,
      },
      openEpisode: serviceEpisodes(service),
    });
    return {
      url: server.url,
      server,
      service,
      close: async () => {
        await server.close();
        loaded.dispose();
      },
    };
  } catch (e) {
    loaded.dispose();
    throw e;
  }
}

/** Episodes served by a remote openpi server (one connection for the run). */
export async function remoteEpisodes(
  url: string,
  embodiment: Embodiment,
): Promise<{ openEpisode: OpenEpisode; close(): Promise<void> }> {
  const client = await OpenpiClient.connect(url);
  const meta = client.metadata.robot_type;
  if (typeof meta === 'string' && meta !== embodiment.robotType) {
    await client.close();
    throw new Error(`server ${url} serves robot type "${meta}", the robot is "${embodiment.robotType}"`);
  }
  return { openEpisode: sharedEpisodes(openpiActionSource(client, embodiment)), close: () => client.close() };
}
