/**
 * The k6-operator's TestRun (k6.io/v1alpha1), typed after the operator's Go API
 * (api/v1alpha1/testrun_types.go) with the core Kubernetes types of kubernetes-models, for the
 * fields a TestRun in k8s/ may use. kubernetes-models has no k6 package.
 */
import type { IAffinity } from 'kubernetes-models/v1/Affinity';
import type { IEnvFromSource } from 'kubernetes-models/v1/EnvFromSource';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { ILocalObjectReference } from 'kubernetes-models/v1/LocalObjectReference';
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { IPodSecurityContext } from 'kubernetes-models/v1/PodSecurityContext';
import type { IResourceRequirements } from 'kubernetes-models/v1/ResourceRequirements';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';
import type { IToleration } from 'kubernetes-models/v1/Toleration';
import type { ITopologySpreadConstraint } from 'kubernetes-models/v1/TopologySpreadConstraint';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';

export interface ITestRunPod {
  affinity?: IAffinity;
  automountServiceAccountToken?: string;
  env?: IEnvVar[];
  envFrom?: IEnvFromSource[];
  image?: string;
  imagePullSecrets?: ILocalObjectReference[];
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  metadata?: { annotations?: Record<string, string>; labels?: Record<string, string> };
  nodeSelector?: Record<string, string>;
  tolerations?: IToleration[];
  topologySpreadConstraints?: ITopologySpreadConstraint[];
  resources?: IResourceRequirements;
  serviceAccountName?: string;
  securityContext?: IPodSecurityContext;
  containerSecurityContext?: ISecurityContext;
  volumes?: IVolume[];
  volumeMounts?: IVolumeMount[];
  priorityClassName?: string;
}

export interface ITestRun {
  apiVersion: 'k6.io/v1alpha1';
  kind: 'TestRun';
  metadata: NonNullable<IPod['metadata']>;
  spec: {
    script: {
      configMap?: { name: string; file?: string };
      volumeClaim?: { name: string; file?: string; readOnly?: boolean };
      localFile?: string;
    };
    parallelism: number;
    separate?: boolean;
    arguments?: string;
    initializer?: ITestRunPod;
    starter?: ITestRunPod;
    runner?: ITestRunPod;
    quiet?: 'true' | 'false';
    paused?: 'true' | 'false';
    cleanup?: 'post';
  };
}
