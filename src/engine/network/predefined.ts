import { newId } from '../../common/ids.js';
import { InvalidArgument } from '../../common/errors.js';
import { formatCidr, newPool, parseCidr } from './ipam.js';
import type { NetworkRecord } from './records.js';

/**
 * The networks every Docker host has: `host`, `none` and the default
 * `bridge` (Docker's docker0, with its well-known options).
 *
 *   defaultBridgeRecord('berth0', '172.17.0.1/16')       // from --bip
 *   defaultBridgeRecord('berth0', undefined, '172.18.0.0/16')
 */
export function predefinedRecord(name: 'host' | 'none', driver: 'host' | 'null'): NetworkRecord {
  return { Id: newId(), Name: name, Created: new Date().toISOString(), Driver: driver, Internal: false, Attachable: false, Labels: {}, Options: {} };
}

/** `bip` is the gateway with prefix (`--bip 172.17.0.1/16`); otherwise `subnet` (chosen by the caller) gets its first address as gateway. */
export function defaultBridgeRecord(dev: string, bip: string | undefined, subnet?: string): NetworkRecord {
  let pool;
  if (bip) {
    const [addr, len] = bip.split('/');
    pool = newPool(formatCidr(parseCidr(`${addr}/${len ?? '16'}`)), addr);
  } else if (subnet) {
    pool = newPool(subnet);
  } else {
    throw new InvalidArgument('the default bridge needs --bip or a free subnet');
  }
  return {
    Id: newId(), Name: 'bridge', Created: new Date().toISOString(), Driver: 'bridge', Internal: false, Attachable: false, Labels: {},
    Options: {
      'com.docker.network.bridge.default_bridge': 'true', 'com.docker.network.bridge.enable_icc': 'true',
      'com.docker.network.bridge.enable_ip_masquerade': 'true', 'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
      'com.docker.network.bridge.name': dev, 'com.docker.network.driver.mtu': '1500',
    },
    Subnet: pool.subnet, Gateway: pool.gateway, Bridge: dev, Default: true,
  };
}
