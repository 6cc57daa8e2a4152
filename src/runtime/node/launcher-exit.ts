/**
 * `npx honnx ...` and `npm exec` start honnx through `sh -c`: a supervisor's SIGTERM to npm is forwarded to that
 * shell, which exits without passing it on, and honnx is left re-parented to PID 1, still serving, its port bound.
 * (`npm start` execs node instead, so the signal reaches it.) So when npm launched this process (npm sets
 * `npm_command`) and its parent goes away, `stop` runs, as a SIGTERM would. A process not started by npm is left alone.
 */
export function stopWhenLauncherExits(stop: () => void, environment: NodeJS.ProcessEnv = process.env): void {
  if (environment.npm_command === undefined) return;
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(watch);
    stop();
  }, 250);
  watch.unref();
}
