/**
 * What a NetworkPolicy lets through, worked out as the Kubernetes API defines it, for the selectors
 * the chart writes (matchLabels; matchExpressions are refused rather than guessed): a rule applies
 * when one of its ports and one of its peers match, an empty list of either matching everything.
 * Not an enforcement: whether the cluster's CNI enforces policies is outside these tests.
 */
import { BlockList, isIPv6 } from 'node:net';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { INetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer';
import type { INetworkPolicyPort } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPort';

type ILabelSelector = NonNullable<INetworkPolicyPeer['podSelector']>;

/** A pod (by its labels and its namespace's), or an address outside the cluster's pods. */
export type Endpoint = { pod: Record<string, string>; namespace: Record<string, string> } | { ip: string };

export interface Connection {
  peer: Endpoint;
  port: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  /** The container port's name, for policies that name ports. */
  portName?: string;
}

function selects(selector: ILabelSelector, labels: Record<string, string>): boolean {
  if (selector.matchExpressions && selector.matchExpressions.length > 0) throw new Error('matchExpressions are not evaluated here');
  return Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

function peerMatches(peer: INetworkPolicyPeer, endpoint: Endpoint, policyNamespace: Record<string, string>): boolean {
  if (peer.ipBlock) {
    if (!('ip' in endpoint)) return false;
    const family = isIPv6(endpoint.ip) ? 'ipv6' : 'ipv4';
    const [net, prefix] = peer.ipBlock.cidr.split('/') as [string, string];
    const within = new BlockList();
    within.addSubnet(net, Number(prefix), isIPv6(net) ? 'ipv6' : 'ipv4');
    const excepted = new BlockList();
    for (const cidr of peer.ipBlock.except ?? []) {
      const [n, p] = cidr.split('/') as [string, string];
      excepted.addSubnet(n, Number(p), isIPv6(n) ? 'ipv6' : 'ipv4');
    }
    return within.check(endpoint.ip, family) && !excepted.check(endpoint.ip, family);
  }
  if ('ip' in endpoint) return false;
  // A podSelector alone means the policy's own namespace; a namespaceSelector, those it selects.
  const namespaceOk = peer.namespaceSelector
    ? selects(peer.namespaceSelector, endpoint.namespace)
    : selects({ matchLabels: policyNamespace }, endpoint.namespace);
  return namespaceOk && (peer.podSelector ? selects(peer.podSelector, endpoint.pod) : true);
}

function portMatches(ports: INetworkPolicyPort[] | undefined, c: Connection): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== (c.protocol ?? 'TCP')) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'string') return p.port === c.portName;
    return p.endPort === undefined ? p.port === c.port : c.port >= p.port && c.port <= p.endPort;
  });
}

type Rules = Array<{ ports?: INetworkPolicyPort[]; peers?: INetworkPolicyPeer[] }>;

function allows(rules: Rules, c: Connection, policyNamespace: Record<string, string>): boolean {
  return rules.some((r) => portMatches(r.ports, c) && (!r.peers || r.peers.length === 0 || r.peers.some((p) => peerMatches(p, c.peer, policyNamespace))));
}

/** Whether the policy lets `c.peer` open a connection to a pod it selects. */
export function admits(policy: INetworkPolicy, c: Connection, policyNamespace: Record<string, string>): boolean {
  if (!policy.spec?.policyTypes?.includes('Ingress')) return true;
  return allows(
    (policy.spec.ingress ?? []).map((r) => ({ ports: r.ports, peers: r.from })),
    c,
    policyNamespace,
  );
}

/** Whether the policy lets a pod it selects open a connection to `c.peer`. */
export function letsOut(policy: INetworkPolicy, c: Connection, policyNamespace: Record<string, string>): boolean {
  if (!policy.spec?.policyTypes?.includes('Egress')) return true;
  return allows(
    (policy.spec.egress ?? []).map((r) => ({ ports: r.ports, peers: r.to })),
    c,
    policyNamespace,
  );
}
