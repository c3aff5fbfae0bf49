/**
 * Runs a plugin's `hook` program asynchronously with arguments, searching PATH, without waiting
 * for it (g_spawn_async with G_SPAWN_SEARCH_PATH, as the autosave and directory-sync plugins do).
 */
import { spawn } from 'node:child_process';

export function runHook(program: string, args: readonly string[], onError: (message: string) => void): void {
  try {
    const child = spawn(program, args, { stdio: 'ignore', detached: false });
    child.on('error', (err) => onError(err.message));
    child.unref();
  } catch (err) {
    onError((err as Error).message);
  }
}
