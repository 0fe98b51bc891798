/**
 * The kube domain's public entry: Kubernetes objects ↔ skiff's containers and compose projects.
 * Plain functions over typed values returning data; no printing, no container actions, no store access.
 * Commands reach it through `await import()` (the schema validators are ~420 KB of the bundle).
 */
export { generateFromContainers, generateFromCompose, type GenerateOptions, type GenerateResult, type GeneratedObject } from './generate.js';
export { planKube, type PlayOptions, type KubePlan, type PlannedPod, type PlannedContainer, type PlannedVolume, type PodVolume, type PublishedPort } from './play.js';
export { readKubeYaml, type KubeDocument, type ReadResult } from './read.js';
export { objectProblems } from './validate.js';
export { hostPathCheck, type HostPathStat } from './volumes.js';
export { containerFromRecord, type DockerContainerInput, type DockerRecord, type ImageDefaults, type PortBindings } from './docker.js';
export { containerFromService } from './compose.js';
export type { ContainerSpec, MountSpec, PortSpec, FileSpec, HostPathType, Protocol } from './model.js';
export { formatProblem, formatWarning, kubeError, type KubeProblem, type KubeWarning } from './errors.js';
export { KINDS, type Kind, type KubeObject } from './types.js';
export { A as ANNOTATIONS } from './annotations.js';
