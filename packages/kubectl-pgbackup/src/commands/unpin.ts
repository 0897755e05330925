import Pin from './pin.js';

export default class Unpin extends Pin {
  static override summary = 'Unpin a backup: retention applies to it again';
  static override examples = ['<%= config.bin %> unpin pg-20261125020000-x7k2 -n db'];

  protected override readonly pinned = false;
}
