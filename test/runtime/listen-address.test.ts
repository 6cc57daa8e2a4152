import { describe, expect, it } from 'vitest';
import { describeListenAddress, formatListening } from '../../src/runtime/node/listen-address.ts';

describe('the start-up line says the address the server bound', () => {
  it('names 0.0.0.0 when bound to every interface, with the loopback URL beside it', () => {
    const address = describeListenAddress('0.0.0.0', 8787);
    expect(address).toEqual({ bound: '0.0.0.0:8787', url: 'http://127.0.0.1:8787' });
    expect(formatListening(address)).toBe('honnx listening on 0.0.0.0:8787 (all interfaces; from this machine: http://127.0.0.1:8787)');
  });

  it('names a specific host as it is, and brackets IPv6 addresses', () => {
    expect(formatListening(describeListenAddress('127.0.0.1', 9000))).toBe('honnx listening on http://127.0.0.1:9000');
    expect(describeListenAddress('::', 8787)).toEqual({ bound: '[::]:8787', url: 'http://[::1]:8787' });
    expect(describeListenAddress('::1', 8787)).toEqual({ bound: '[::1]:8787', url: 'http://[::1]:8787' });
  });
});
