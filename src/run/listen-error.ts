/** A listener that could not bind, said with the setting that chose its address. */
export class ListenError extends Error {
  constructor(setting: string, host: string, port: number, error: unknown) {
    const code = (error as { code?: unknown }).code;
    const why =
      code === 'EADDRINUSE'
        ? `${host}:${port} is already in use (another process, or another replica on this host): set ${setting} to a free port`
        : code === 'EACCES'
          ? `${host}:${port} is not allowed for this user (a port below 1024?): set ${setting} to another port`
          : `could not listen on ${host}:${port}: ${error instanceof Error ? error.message : String(error)}`;
    super(`${setting}: ${why}`);
    this.name = 'ListenError';
  }
}

export async function listening<T>(setting: string, host: string, port: number, listen: () => Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (error) {
    throw new ListenError(setting, host, port, error);
  }
}
