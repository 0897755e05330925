// Explicit command list for the release bundle (oclif's "explicit" discovery: no file globbing).
import Complete from './commands/__complete.js';
import Completion from './commands/completion.js';
import Create from './commands/create.js';
import Delete from './commands/delete.js';
import Doctor from './commands/doctor.js';
import List from './commands/list.js';
import Pin from './commands/pin.js';
import Prune from './commands/prune.js';
import Recover from './commands/recover.js';
import Restore from './commands/restore.js';
import ScheduleRemove from './commands/schedule/remove.js';
import ScheduleSet from './commands/schedule/set.js';
import ScheduleShow from './commands/schedule/show.js';
import Status from './commands/status.js';
import Unpin from './commands/unpin.js';
import Verify from './commands/verify.js';
import Version from './commands/version.js';

export const COMMANDS = {
  __complete: Complete,
  completion: Completion,
  create: Create,
  delete: Delete,
  doctor: Doctor,
  list: List,
  pin: Pin,
  prune: Prune,
  recover: Recover,
  restore: Restore,
  'schedule:remove': ScheduleRemove,
  'schedule:set': ScheduleSet,
  'schedule:show': ScheduleShow,
  status: Status,
  unpin: Unpin,
  verify: Verify,
  version: Version,
};
