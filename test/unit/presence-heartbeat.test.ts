import { describe, expect, it } from 'vitest';
import type { GatewayStatePart } from '../../src/bus/types.ts';
import type { GatewayPresence } from '../../src/domain/presence.ts';
import { HeartbeatAssembler, splitPresence } from '../../src/gateway/ws/presence-heartbeat.ts';

const longName = (i: number) => '\u{1F600}'.repeat(28) + String(i).padStart(4, '0');

/** 8,000 users with long names in one room, a few in two others: about 1 MB of JSON. */
function crowd(): GatewayPresence {
  return [
    [1, Array.from({ length: 8000 }, (_, i) => longName(i))],
    [2, ['alice', 'bob']],
    [3, ['"quoted\\name"']],
  ];
}

function epoch(state: GatewayPresence, budget: number, number = 1): GatewayStatePart[] {
  const parts = splitPresence(state, budget);
  return parts.map((part, i) => ({ epoch: number, part: i + 1, parts: parts.length, state: part }));
}

describe('a presence heartbeat in parts', () => {
  it('splits a presence into parts whose JSON fits the budget, each user once', () => {
    const state = crowd();
    const budget = 16 * 1024;
    const parts = splitPresence(state, budget);
    expect(parts.length).toBeGreaterThan(Buffer.byteLength(JSON.stringify(state)) / budget);
    for (const part of parts) {
      expect(Buffer.byteLength(JSON.stringify(part))).toBeLessThanOrEqual(budget);
    }
    const users = (presence: GatewayPresence) =>
      presence.flatMap(([room, names]) => names.map((name) => `${room}/${name}`)).sort();
    expect(users(parts.flat())).toEqual(users(state));
  });

  it('keeps a presence that fits, and an empty one, in one part', () => {
    expect(splitPresence(crowd(), Number.POSITIVE_INFINITY)).toEqual([crowd()]);
    expect(splitPresence([], 1024)).toEqual([[]]);
  });

  it('gives the whole presence once every part of an epoch arrived, not before', () => {
    const assembler = new HeartbeatAssembler();
    const parts = epoch(crowd(), 64 * 1024);
    expect(parts.length).toBeGreaterThan(10);
    for (const part of parts.slice(0, -1)) expect(assembler.add('gw', part)).toBeUndefined();
    const whole = assembler.add('gw', parts.at(-1)!);
    expect(whole?.flatMap(([, names]) => names).length).toBe(8003);
  });

  it('drops an epoch with a part missing, and takes the next whole one', () => {
    const assembler = new HeartbeatAssembler();
    const first = epoch(crowd(), 64 * 1024, 1);
    first.splice(3, 1);
    for (const part of first) expect(assembler.add('gw', part)).toBeUndefined();
    const second = epoch([[2, ['alice']]], 64 * 1024, 2);
    expect(assembler.add('gw', second[0]!)).toEqual([[2, ['alice']]]);
  });

  it('keeps the parts of different gateways apart, and forgets a gateway that went away', () => {
    const assembler = new HeartbeatAssembler();
    const a = epoch(crowd(), 64 * 1024);
    const b = epoch([[5, ['carol']]], 64 * 1024);
    expect(assembler.add('a', a[0]!)).toBeUndefined();
    expect(assembler.add('b', b[0]!)).toEqual([[5, ['carol']]]);
    assembler.forget('a');
    for (const part of a.slice(1)) expect(assembler.add('a', part)).toBeUndefined();
  });

  it('ignores parts with impossible numbers', () => {
    const assembler = new HeartbeatAssembler();
    expect(assembler.add('gw', { epoch: 1, part: 2, parts: 1, state: [] })).toBeUndefined();
    expect(assembler.add('gw', { epoch: 1, part: 0, parts: 1, state: [] })).toBeUndefined();
    expect(assembler.add('gw', { epoch: 1.5, part: 1, parts: 1, state: [] })).toBeUndefined();
  });
});
