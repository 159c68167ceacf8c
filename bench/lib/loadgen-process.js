// The parent's side of bench/loadgen.js: forks it, hands it its config, and lets the caller
// await its messages in order.
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const LOADGEN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../loadgen.js');

/** A running load generator: next(type, name?) resolves with its next message of that kind. */
export function startLoadgen(config) {
  const child = fork(LOADGEN, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const queue = [];
  const waiters = [];
  let failure;
  const deliver = () => {
    while (waiters.length > 0) {
      const waiter = waiters[0];
      const index = queue.findIndex((m) => m.type === waiter.type && (waiter.name === undefined || m.name === waiter.name));
      if (index >= 0) {
        waiters.shift();
        waiter.resolve(queue.splice(index, 1)[0]);
      } else if (failure) {
        waiters.shift();
        waiter.reject(failure);
      } else return;
    }
  };
  child.on('message', (message) => {
    if (message.type === 'error') failure = new Error(`load generator: ${message.message}`);
    queue.push(message);
    deliver();
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  void exited.then(({ code, signal }) => {
    failure ??= code === 0 ? new Error('the load generator ended before sending that message') : new Error(`the load generator exited (${code ?? signal})`);
    deliver();
  });
  child.send(config);
  return {
    pid: child.pid,
    exited,
    next: (type, name) =>
      new Promise((resolve, reject) => {
        waiters.push({ type, name, resolve, reject });
        deliver();
      }),
    send: (message) => child.send(message),
    kill: () => child.kill('SIGKILL'),
  };
}
