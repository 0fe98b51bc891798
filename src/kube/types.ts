/**
 * The Kubernetes object types skiff reads and writes: kubernetes-models' interfaces (generated from
 * Kubernetes' OpenAPI schema; type-only imports, so nothing of the package is loaded at run time).
 */
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IContainerPort } from 'kubernetes-models/v1/ContainerPort';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IEnvFromSource } from 'kubernetes-models/v1/EnvFromSource';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';
import type { IPodSecurityContext } from 'kubernetes-models/v1/PodSecurityContext';
import type { IResourceRequirements } from 'kubernetes-models/v1/ResourceRequirements';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IServicePort } from 'kubernetes-models/v1/ServicePort';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IObjectMeta } from '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta';

export type Pod = IPod;
export type PodSpec = IPodSpec;
export type Container = IContainer;
export type ContainerPort = IContainerPort;
export type Volume = IVolume;
export type VolumeMount = IVolumeMount;
export type Probe = IProbe;
export type EnvVar = IEnvVar;
export type EnvFromSource = IEnvFromSource;
export type SecurityContext = ISecurityContext;
export type PodSecurityContext = IPodSecurityContext;
export type ResourceRequirements = IResourceRequirements;
export type Service = IService;
export type ServicePort = IServicePort;
export type ConfigMap = IConfigMap;
export type Secret = ISecret;
export type PersistentVolumeClaim = IPersistentVolumeClaim;
export type Deployment = IDeployment;
export type ObjectMeta = IObjectMeta;

/** The kinds skiff implements, with the apiVersion each is read and written as. */
export const KINDS = {
  Pod: 'v1',
  Deployment: 'apps/v1',
  Service: 'v1',
  ConfigMap: 'v1',
  Secret: 'v1',
  PersistentVolumeClaim: 'v1',
} as const;
export type Kind = keyof typeof KINDS;

export type KubeObject = Pod | Deployment | Service | ConfigMap | Secret | PersistentVolumeClaim;
