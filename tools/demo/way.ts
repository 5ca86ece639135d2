// The two ways the demo runs the ChatBot's pod: on the local node (the kubelet runs it, as in any
// cluster), or, where this machine cannot run containers, as local processes.

import type { KubeConfig } from '@kubernetes/client-node';
import type { Command } from '../cluster/command.ts';
import type { ControlPlane } from '../cluster/control-plane.ts';

export interface DemoContext {
  cluster: ControlPlane;
  kubeConfig: KubeConfig;
  kubectl: Command;
  helm: Command;
  namespace: string;
  /** Where the chat API and the health port answer on this machine. */
  chatPort: number;
  healthPort: number;
  /** The demo's folder under the ClawBot cache (logs, the local pod's volumes). */
  home: string;
  say: (line: string) => void;
  /** Run in reverse order when the demo stops. */
  stops: Array<() => Promise<unknown>>;
  /** The runtime ended while the demo was running. */
  onRuntimeExit: (code: number | null) => void;
}

export interface DemoWay {
  /** Said once, so the user knows where the pod runs. */
  describe: string;
  /** The address the model server listens on: one the ChatBot's pod can reach. */
  modelHost(): string;
  resources: { cpu: string; memory: string };
  /** Ports the ChatBot's spec gives the runtime, when they are not the defaults. */
  runtimePorts?: { port: number; healthPort: number };
  startOperator(): Promise<void>;
  /** Runs the pod (or waits for it) until the chat API answers on 127.0.0.1:chatPort. */
  runPod(): Promise<void>;
}
