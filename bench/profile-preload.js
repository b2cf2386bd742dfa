// Loaded with `node -r` into the api and worker when the bench runs with --profile: SIGWINCH (not
// SIGUSR2, on which Nest shuts down)
// starts the V8 sampling profiler, the next SIGWINCH writes <dir>/<app>-<pid>-<n>.cpuprofile
// (open it in Chrome DevTools, or summarise it with bench/profile-summary.ts).
'use strict';
const fs = require('node:fs');
const inspector = require('node:inspector');
const path = require('node:path');

const dir = process.env.THUMBS_PROFILE_DIR;
if (dir) {
  const session = new inspector.Session();
  session.connect();
  let running = false;
  let count = 0;
  const name = path.basename(path.dirname(process.argv[1] || 'node'));
  process.on('SIGWINCH', () => {
    if (!running) {
      session.post('Profiler.enable', () =>
        session.post('Profiler.setSamplingInterval', { interval: 250 }, () => session.post('Profiler.start', () => (running = true))),
      );
      return;
    }
    session.post('Profiler.stop', (error, result) => {
      running = false;
      if (error) return;
      count += 1;
      fs.mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `${name}-${process.pid}-${count}.cpuprofile`);
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(result.profile));
      fs.renameSync(`${file}.tmp`, file);
    });
  });
}
