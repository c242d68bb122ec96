import { describe, expect, it } from 'vitest';
import { FailureWindow } from '../../src/domain/login-limits.ts';

describe('failure window', () => {
  it('limits a key past `max` failures until its oldest counted failure leaves the window', () => {
    const window = new FailureWindow(3, 1000);
    window.fail('k', 0);
    window.fail('k', 100);
    expect(window.retryAfterMs('k', 200)).toBe(0);
    window.fail('k', 200);
    expect(window.retryAfterMs('k', 300)).toBe(700);
    expect(window.retryAfterMs('other', 300)).toBe(0);
    expect(window.retryAfterMs('k', 999)).toBe(1);
    // the failure at 0 left the window at 1000
    expect(window.retryAfterMs('k', 1000)).toBe(0);
  });

  it('forgets a key on clear and takes back one failure on forgive', () => {
    const window = new FailureWindow(2, 1000);
    window.fail('k', 0);
    window.fail('k', 10);
    expect(window.retryAfterMs('k', 20)).toBeGreaterThan(0);
    window.forgive('k', 10);
    expect(window.retryAfterMs('k', 20)).toBe(0);
    window.fail('k', 30);
    window.clear('k');
    expect(window.retryAfterMs('k', 40)).toBe(0);
  });

  it('drops keys whose failures all left the window when it holds too many', () => {
    const window = new FailureWindow(1, 100, 10);
    for (let i = 0; i < 10; i++) window.fail(`old-${i}`, 0);
    window.fail('new', 500);
    expect(window.retryAfterMs('old-1', 500)).toBe(0);
    expect(window.retryAfterMs('new', 500)).toBe(100);
  });
});
