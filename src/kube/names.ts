/**
 * Kubernetes' name and key syntaxes (apimachinery's validation: DNS-1123 labels and subdomains, DNS-1035
 * labels, IANA service names, label keys and values, env var names, ConfigMap keys), turning Docker and
 * compose names into valid ones (generate), and the names `kube play` gives what it makes (podman's).
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

/** undefined when valid, else what is wrong (the API server's words, shortened). */
export type Check = (s: string) => string | undefined;

export const dns1123Label: Check = (s) =>
  s.length > 63 ? 'must be no more than 63 characters' : DNS1123_LABEL.test(s) ? undefined : "must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (a DNS-1123 label)";

export const dns1123Subdomain: Check = (s) =>
  s.length > 253 ? 'must be no more than 253 characters' : DNS1123_SUBDOMAIN.test(s) ? undefined : "must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (a DNS-1123 subdomain)";

export const dns1035Label: Check = (s) =>
  s.length > 63 ? 'must be no more than 63 characters' : DNS1035_LABEL.test(s) ? undefined : "must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (a DNS-1035 label)";

export const ianaServiceName: Check = (s) => {
  if (s.length > 15) return 'must be no more than 15 characters';
  if (!/^[-a-z0-9]+$/.test(s)) return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
  if (!/[a-z]/.test(s)) return 'must contain at least one letter (a-z)';
  if (s.includes('--')) return 'must not contain consecutive hyphens';
  if (s.startsWith('-') || s.endsWith('-')) return 'must not begin or end with a hyphen';
  return undefined;
};

/** Label and annotation keys: `[prefix/]name`, the prefix a DNS-1123 subdomain, the name 63 characters at most. */
export const qualifiedName: Check = (s) => {
  const slash = s.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : s.slice(0, slash);
  const name = slash < 0 ? s : s.slice(slash + 1);
  if (prefix !== undefined) {
    if (prefix === '') return 'prefix part must be non-empty';
    const p = dns1123Subdomain(prefix);
    if (p) return `prefix part ${p}`;
  }
  if (name === '') return 'name part must be non-empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  return QUALIFIED_NAME.test(name) ? undefined : "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
};

export const labelValue: Check = (s) =>
  s.length > 63 ? 'must be no more than 63 characters' : LABEL_VALUE.test(s) ? undefined : "must be empty or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

export const envVarName: Check = (s) =>
  ENV_NAME.test(s) ? undefined : "must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit";

export const configMapKey: Check = (s) => {
  if (s.length > 253) return 'must be no more than 253 characters';
  if (!CONFIG_KEY.test(s)) return "must consist of alphanumeric characters, '-', '_' or '.'";
  if (s === '.' || s === '..' || s.startsWith('..')) return "must not be '.' or '..' or start with '..'";
  return undefined;
};

/**
 * A Docker or compose name (`my_app.web-1`) as a DNS-1123 label: lower case, every other character a
 * '-', no '-' at either end, 63 characters at most (podman's removeUnderscores, taken further).
 */
export function toDnsLabel(name: string, fallback = 'x'): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
  return s === '' ? fallback : s;
}

/** As toDnsLabel, also starting with a letter (Service names are DNS-1035 labels). */
export function toDns1035Label(name: string): string {
  const s = toDnsLabel(name, 'svc');
  return /^[a-z]/.test(s) ? s : toDnsLabel(`s-${s}`);
}

/** `base` made unique among `taken` by a `-N` suffix (kept within 63 characters); records it. */
export function uniqueName(base: string, taken: Set<string>): string {
  let name = base;
  for (let i = 1; taken.has(name); i++) {
    const suffix = `-${i}`;
    name = `${base.slice(0, 63 - suffix.length).replace(/-+$/, '')}${suffix}`;
  }
  taken.add(name);
  return name;
}

/** A host path as a volume name, podman's way: `/srv/data/` → `srv-data-host`, `/` → `root-host`. */
export function hostPathVolumeName(p: string): string {
  const trimmed = p.replace(/^\/+|\/+$/g, '');
  return `${toDnsLabel(trimmed === '' ? 'root' : trimmed).slice(0, 58).replace(/-+$/, '')}-host`;
}

/** The pods `kube play` makes: a Pod's own name; a Deployment's replicas `NAME-pod-0`, `NAME-pod-1`, ... (podman 4's). */
export function podName(kind: 'Pod' | 'Deployment', name: string, replica: number): string {
  return kind === 'Pod' ? name : `${name}-pod-${replica}`;
}

/** A container of a played pod: `POD-CONTAINER` (podman's). */
export function containerName(pod: string, container: string): string {
  return `${pod}-${container}`;
}
