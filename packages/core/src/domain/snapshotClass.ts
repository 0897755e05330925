import { GroupSnapshotStorage, SnapshotStorage } from '../contract.js';
import { invalid, notFound } from '../errors.js';
import type { SnapshotClassInfo } from './readModels.js';

/** The kinds of class a snapshot is taken with, and the request option that names one. */
const KINDS = {
  VolumeSnapshotClass: { plural: 'volumesnapshotclasses', option: 'snapshotClass', defaultAnnotation: SnapshotStorage.isDefaultClass },
  VolumeGroupSnapshotClass: {
    plural: 'volumegroupsnapshotclasses',
    option: 'groupSnapshotClass',
    defaultAnnotation: GroupSnapshotStorage.isDefaultClass,
  },
} as const;

/**
 * The VolumeSnapshotClass (or VolumeGroupSnapshotClass) for volumes of `driver`: the explicit one (it
 * must serve that driver), else the class annotated default for the driver, else the only class of the driver.
 */
export function selectSnapshotClass(
  classes: SnapshotClassInfo[],
  driver: string,
  explicit?: string,
  kind: keyof typeof KINDS = 'VolumeSnapshotClass',
): SnapshotClassInfo {
  const { plural, option, defaultAnnotation } = KINDS[kind];
  const forDriver = classes.filter((c) => c.driver === driver);
  if (explicit) {
    const chosen = classes.find((c) => c.name === explicit);
    if (!chosen) throw notFound(`${kind} "${explicit}" not found`, `list them with: kubectl get ${plural}`);
    if (chosen.driver !== driver)
      throw invalid(`${kind} "${explicit}" is for driver ${chosen.driver}, but the volume is provisioned by ${driver}`);
    return chosen;
  }
  const defaults = forDriver.filter((c) => c.isDefault);
  if (defaults.length === 1) return defaults[0]!;
  if (defaults.length > 1)
    throw invalid(`${defaults.length} ${kind}es are marked default for driver ${driver}: ${defaults.map((c) => c.name).join(', ')}`, {
      text: 'choose one',
      options: [{ option }],
    });
  if (forDriver.length === 1) return forDriver[0]!;
  if (forDriver.length === 0)
    throw notFound(`no ${kind} for CSI driver ${driver}`, {
      text: `create one with "driver: ${driver}", or choose one`,
      options: [{ option }],
    });
  throw invalid(
    `${forDriver.length} ${kind}es serve driver ${driver} and none is the default: ${forDriver.map((c) => c.name).join(', ')}`,
    { text: `choose one, or annotate one with ${defaultAnnotation}=true`, options: [{ option }] },
  );
}
