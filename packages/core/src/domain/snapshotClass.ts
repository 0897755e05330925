import { invalid, notFound } from '../errors.js';
import type { SnapshotClassInfo } from '../ports.js';

/**
 * The VolumeSnapshotClass for a volume of `driver`: the explicit one (it must serve that driver),
 * else the class annotated default for the driver, else the only class of the driver.
 */
export function selectSnapshotClass(classes: SnapshotClassInfo[], driver: string, explicit?: string): SnapshotClassInfo {
  const forDriver = classes.filter((c) => c.driver === driver);
  if (explicit) {
    const chosen = classes.find((c) => c.name === explicit);
    if (!chosen) throw notFound(`VolumeSnapshotClass "${explicit}" not found`, `list them with: kubectl get volumesnapshotclasses`);
    if (chosen.driver !== driver)
      throw invalid(`VolumeSnapshotClass "${explicit}" is for driver ${chosen.driver}, but the volume is provisioned by ${driver}`);
    return chosen;
  }
  const defaults = forDriver.filter((c) => c.isDefault);
  if (defaults.length === 1) return defaults[0]!;
  if (defaults.length > 1)
    throw invalid(`${defaults.length} VolumeSnapshotClasses are marked default for driver ${driver}: ${defaults.map((c) => c.name).join(', ')}`, 'choose one with --snapshot-class');
  if (forDriver.length === 1) return forDriver[0]!;
  if (forDriver.length === 0)
    throw notFound(`no VolumeSnapshotClass for CSI driver ${driver}`, `create one with "driver: ${driver}", or pass --snapshot-class`);
  throw invalid(
    `${forDriver.length} VolumeSnapshotClasses serve driver ${driver} and none is the default: ${forDriver.map((c) => c.name).join(', ')}`,
    'choose one with --snapshot-class, or annotate one with snapshot.storage.kubernetes.io/is-default-class=true',
  );
}
