/*
 * The network plan: what src/network/ decided for one container, as JSON (the `skiff.network`
 * extension of a spec, or the input of `skiff-shim net`). Field names (src/network/plan.ts):
 *   { containerId, endpoint, lockFile, downFile?, aardvark?, portsTable?,
 *     interfaces: [{ name, hostName, mac?, address "A/P", defaultRoute, dnsNames?,
 *                    network: { name, bridge, table, subnet "N/P", gateway, mtu?, internal, dnsDir? } }],
 *     ports: [{ proto "tcp"|"udp", hostIp?, hostPort, hostPortEnd, containerIp, containerPort }],
 *     pasta?: { path, args: [...] }, forward?: { socket } }
 * Everything is checked here; setup only executes.
 */

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "net.h"
#include "shim.h"

static const char *str(json_t *o, const char *key) { return json_string_value(json_object_get(o, key)); }

static int need(json_t *o, const char *key, const char *what, const char **out) {
  *out = str(o, key);
  return *out && **out ? 0 : failx("network plan: %s.%s must be a non-empty string", what, key);
}

/* Names that end up as interface names, table names or file names: a safe alphabet, bounded. */
static int safe_name(const char *s, size_t max, const char *what) {
  size_t n = strlen(s);
  if (!n || n > max) return failx("network plan: %s '%s' must have 1 to %zu characters", what, s, max);
  for (const char *c = s; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' ||
          (*c == '.' && c != s)))
      return failx("network plan: %s '%s' has a character outside [a-zA-Z0-9_.-]", what, s);
  return 0;
}

static int uint_in(json_t *o, const char *key, const char *what, unsigned max, unsigned *out) {
  json_t *v = json_object_get(o, key);
  if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > (json_int_t)max)
    return failx("network plan: %s.%s must be an integer in 0..%u", what, key, max);
  *out = (unsigned)json_integer_value(v);
  return 0;
}

static int parse_network(json_t *o, struct net_network *n) {
  if (!json_is_object(o)) return failx("network plan: interface.network must be an object");
  if (need(o, "name", "network", &n->name) < 0 || need(o, "bridge", "network", &n->bridge) < 0 ||
      need(o, "table", "network", &n->table) < 0)
    return -1;
  if (safe_name(n->name, 200, "network name") < 0 || safe_name(n->bridge, 15, "bridge name") < 0 ||
      safe_name(n->table, 64, "table name") < 0)
    return -1;
  /* teardown deletes the bridge and the table by these names: only ever ones of ours */
  if (strncmp(n->bridge, "skiff", 5) || strncmp(n->table, "skiff_", 6))
    return failx("network plan: bridge %s / table %s: skiff manages only bridges named skiff* and tables skiff_*", n->bridge,
                 n->table);
  if (net_addr_parse(str(o, "subnet"), true, &n->subnet) < 0 || net_addr_parse(str(o, "gateway"), false, &n->gateway) < 0)
    return -1;
  n->gateway.prefix = n->subnet.prefix;
  unsigned mtu = 0;
  if (json_object_get(o, "mtu") && uint_in(o, "mtu", "network", 65535, &mtu) < 0) return -1;
  n->mtu = (int)mtu;
  n->internal = json_is_true(json_object_get(o, "internal"));
  n->dns_dir = str(o, "dnsDir");
  return 0;
}

static int parse_iface(json_t *o, struct net_iface *f) {
  if (!json_is_object(o)) return failx("network plan: interfaces[] must be objects");
  if (need(o, "name", "interface", &f->name) < 0 || need(o, "hostName", "interface", &f->host_name) < 0) return -1;
  if (safe_name(f->name, 15, "interface name") < 0 || safe_name(f->host_name, 15, "interface name") < 0) return -1;
  if (strncmp(f->host_name, "sk", 2))
    return failx("network plan: host interface %s: skiff manages only host links named sk*", f->host_name);
  if (net_addr_parse(str(o, "address"), true, &f->addr) < 0) return -1;
  const char *mac = str(o, "mac");
  if (mac) {
    if (mac_parse(mac, f->mac) < 0) return -1;
    f->has_mac = true;
  }
  f->default_route = json_is_true(json_object_get(o, "defaultRoute"));
  f->dns_names = str(o, "dnsNames");
  if (f->dns_names && (strchr(f->dns_names, ' ') || strchr(f->dns_names, '\n')))
    return failx("network plan: dnsNames must not contain spaces or newlines");
  return parse_network(json_object_get(o, "network"), &f->net);
}

static int parse_port(json_t *o, struct net_port *p) {
  if (!json_is_object(o)) return failx("network plan: ports[] must be objects");
  const char *proto = str(o, "proto");
  if (proto && !strcmp(proto, "tcp")) p->proto = IPPROTO_TCP;
  else if (proto && !strcmp(proto, "udp")) p->proto = IPPROTO_UDP;
  else return failx("network plan: port protocol %s is not supported (tcp, udp)", proto ? proto : "(none)");
  const char *ip = str(o, "hostIp");
  if (ip && *ip) {
    if (net_addr_parse(ip, false, &p->host_ip) < 0) return -1;
    p->has_host_ip = true;
  }
  if (uint_in(o, "hostPort", "port", 65535, &p->host_port) < 0 || uint_in(o, "hostPortEnd", "port", 65535, &p->host_port_end) < 0 ||
      uint_in(o, "containerPort", "port", 65535, &p->container_port) < 0)
    return -1;
  if (p->host_port_end < p->host_port || !p->container_port) return failx("network plan: bad port range");
  return net_addr_parse(str(o, "containerIp"), false, &p->container_ip);
}

static int strv(json_t *arr, char ***out) {
  if (!json_is_array(arr)) return failx("network plan: pasta.args must be an array");
  size_t n = json_array_size(arr), i;
  char **v = xcalloc(n + 1, sizeof *v);
  json_t *e;
  *out = v; /* the plan owns it (net_plan_free) */
  json_array_foreach(arr, i, e) {
    if (!json_is_string(e)) return failx("network plan: pasta.args[%zu] must be a string", i);
    v[i] = (char *)json_string_value(e);
  }
  return 0;
}

int net_plan_parse(json_t *j, struct net_plan *p) {
  memset(p, 0, sizeof *p);
  if (!json_is_object(j)) return failx("network plan: must be an object");
  p->json = json_incref(j);
  if (need(j, "containerId", "plan", &p->container_id) < 0 || need(j, "lockFile", "plan", &p->lock_file) < 0) return -1;
  p->endpoint = str(j, "endpoint") ? str(j, "endpoint") : p->container_id;
  p->aardvark = str(j, "aardvark");
  p->down_file = str(j, "downFile");
  p->ports_table = str(j, "portsTable");
  if (p->ports_table && (safe_name(p->ports_table, 64, "table name") < 0 || strncmp(p->ports_table, "skiff_", 6)))
    return failx("network plan: table %s: skiff manages only tables skiff_*", p->ports_table);
  json_t *ifs = json_object_get(j, "interfaces"), *ports = json_object_get(j, "ports"), *e;
  size_t i;
  if (ifs && !json_is_array(ifs)) return failx("network plan: interfaces must be an array");
  if (ports && !json_is_array(ports)) return failx("network plan: ports must be an array");
  p->nifaces = json_array_size(ifs);
  p->ifaces = xcalloc(p->nifaces, sizeof *p->ifaces);
  json_array_foreach(ifs, i, e) if (parse_iface(e, &p->ifaces[i]) < 0) return -1;
  p->nports = json_array_size(ports);
  p->ports = xcalloc(p->nports, sizeof *p->ports);
  json_array_foreach(ports, i, e) if (parse_port(e, &p->ports[i]) < 0) return -1;
  if (p->nports && !p->ports_table && !json_object_get(j, "pasta")) return failx("network plan: ports need portsTable");
  for (size_t k = 0; k < p->nifaces; k++)
    if (p->ifaces[k].dns_names && p->ifaces[k].net.dns_dir && !p->aardvark)
      return failx("network plan: DNS needs the path of aardvark-dns");
  json_t *pasta = json_object_get(j, "pasta");
  if (pasta) {
    if (need(pasta, "path", "pasta", &p->pasta.path) < 0 || strv(json_object_get(pasta, "args"), &p->pasta.args) < 0) return -1;
    p->has_pasta = true;
  }
  json_t *fwd = json_object_get(j, "forward");
  if (fwd && need(fwd, "socket", "forward", &p->forward_socket) < 0) return -1;
  if (p->forward_socket && p->has_pasta) return failx("network plan: forward and pasta exclude each other");
  return 0;
}

int net_plan_load(const char *file, struct net_plan *p) {
  memset(p, 0, sizeof *p);
  json_error_t err;
  cleanup_json json_t *j = json_load_file(file, JSON_REJECT_DUPLICATES, &err);
  if (!j) return failx("read network plan %s: %s (line %d)", file, err.text, err.line);
  return net_plan_parse(j, p);
}

void net_plan_free(struct net_plan *p) {
  int e = errno;
  free(p->ifaces);
  free(p->ports);
  free(p->pasta.args);
  json_decref(p->json);
  memset(p, 0, sizeof *p);
  errno = e;
}
