import fs from 'node:fs';
import path from 'node:path';

/** The first executable called `name` on the PATH of `environment`, or undefined. */
export function which(name: string, environment: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (environment.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
