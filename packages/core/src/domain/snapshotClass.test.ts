import { describe, expect, it } from '@jest/globals';
import { type ErrorCode, PgBackupError } from '../errors.js';
import { TEST_DRIVER, aSnapshotClass } from '../testing/builders.js';
import { selectSnapshotClass } from './snapshotClass.js';

const OTHER = 'ebs.csi.aws.com';

const failure = (fn: () => unknown, code: ErrorCode): PgBackupError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PgBackupError);
    expect((e as PgBackupError).code).toBe(code);
    return e as PgBackupError;
  }
  throw new Error(`expected a ${code} error`);
};

describe('selectSnapshotClass', () => {
  const fast = aSnapshotClass({ name: 'fast' });
  const slow = aSnapshotClass({ name: 'slow' });
  const otherDefault = aSnapshotClass({ name: 'aws-default', driver: OTHER, isDefault: true });

  describe('with an explicit class', () => {
    it('returns it when it serves the volume driver, even when another class is the default', () => {
      expect(selectSnapshotClass([aSnapshotClass({ name: 'dflt', isDefault: true }), slow], TEST_DRIVER, 'slow')).toBe(slow);
    });

    it('refuses a class of another driver with Invalid naming both drivers', () => {
      const e = failure(() => selectSnapshotClass([fast, otherDefault], TEST_DRIVER, 'aws-default'), 'Invalid');
      expect(e.message).toBe(`VolumeSnapshotClass "aws-default" is for driver ${OTHER}, but the volume is provisioned by ${TEST_DRIVER}`);
    });

    it('is NotFound when no class has that name, with a hint to list them', () => {
      const e = failure(() => selectSnapshotClass([fast], TEST_DRIVER, 'nope'), 'NotFound');
      expect(e.message).toBe('VolumeSnapshotClass "nope" not found');
      expect(e.hint?.text).toMatch(/kubectl get volumesnapshotclasses/);
    });
  });

  describe('without an explicit class', () => {
    it('takes the class marked default for the driver, ignoring defaults of other drivers', () => {
      const dflt = aSnapshotClass({ name: 'dflt', isDefault: true });
      expect(selectSnapshotClass([otherDefault, fast, dflt, slow], TEST_DRIVER)).toBe(dflt);
    });

    it('refuses several defaults for the driver with Invalid listing them', () => {
      const e = failure(
        () =>
          selectSnapshotClass(
            [aSnapshotClass({ name: 'a', isDefault: true }), aSnapshotClass({ name: 'b', isDefault: true })],
            TEST_DRIVER,
          ),
        'Invalid',
      );
      expect(e.message).toBe(`2 VolumeSnapshotClasses are marked default for driver ${TEST_DRIVER}: a, b`);
      expect(e.hint?.options).toEqual([{ option: 'snapshotClass' }]);
    });

    it('takes the only class of the driver when none is marked default', () => {
      expect(selectSnapshotClass([otherDefault, fast], TEST_DRIVER)).toBe(fast);
    });

    it('is NotFound when no class serves the driver (a default of another driver does not count)', () => {
      const e = failure(() => selectSnapshotClass([otherDefault], TEST_DRIVER), 'NotFound');
      expect(e.message).toBe(`no VolumeSnapshotClass for CSI driver ${TEST_DRIVER}`);
      expect(e.hint?.text).toContain(`driver: ${TEST_DRIVER}`);
      failure(() => selectSnapshotClass([], TEST_DRIVER), 'NotFound');
    });

    it('refuses to guess among several classes of the driver with none default: Invalid listing them', () => {
      const e = failure(() => selectSnapshotClass([fast, slow, otherDefault], TEST_DRIVER), 'Invalid');
      expect(e.message).toBe(`2 VolumeSnapshotClasses serve driver ${TEST_DRIVER} and none is the default: fast, slow`);
      expect(e.hint?.text).toMatch(/is-default-class/);
    });
  });
});
