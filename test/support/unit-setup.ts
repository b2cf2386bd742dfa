import { checkRedis } from './global-setup';

/** Before the unit project: some specs use the real Redis (run id, reachability). No builds. */
export default checkRedis;
