import { describe, expect, it } from '@jest/globals';
import { bytesIec, bytesQuantity, humanDuration } from './format.js';

describe('sizes: one scaling for the CLI and the portal', () => {
  it.each([
    [0, '0', '0 B'],
    [1023, '1023', '1023 B'],
    [1024, '1Ki', '1 KiB'],
    [1536 * 1024 ** 2, '1.5Gi', '1.5 GiB'],
    [512 * 1024 ** 2, '512Mi', '512 MiB'],
    [10.4 * 1024 ** 3, '10Gi', '10 GiB'],
    [2 * 1024 ** 6, '2048Pi', '2048 PiB'],
  ])('%d bytes → %s / %s', (bytes, quantity, iec) => {
    expect(bytesQuantity(bytes)).toBe(quantity);
    expect(bytesIec(bytes)).toBe(iec);
  });
});

describe("durations: kubectl's HumanDuration", () => {
  it.each([
    [-5, '0s'],
    [45, '45s'],
    [119, '119s'],
    [192, '3m12s'],
    [600, '10m'],
    [150 * 60, '150m'],
    [5 * 3600, '5h'],
    [5 * 3600 + 30 * 60, '5h30m'],
    [30 * 3600, '30h'],
    [3 * 86400, '3d'],
    [3 * 86400 + 5 * 3600, '3d5h'],
    [400 * 86400, '400d'],
    [(3 * 365 + 30) * 86400, '3y30d'],
    [10 * 365 * 86400, '10y'],
  ])('%d s → %s', (seconds, text) => {
    expect(humanDuration(seconds)).toBe(text);
  });
});
