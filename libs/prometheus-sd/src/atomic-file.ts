import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes a file atomically: the content goes to a temporary file in the same directory (named `.<name>.<pid>.<rand>.tmp`,
 * so a `*.json` glob never matches it), is flushed to disk, then renamed over the target. A reader, or a process
 * that restarts after a crash, sees the old file or the new one, never a partial one.
 */
export async function writeFileAtomically(path: string, content: string, mode = 0o644): Promise<void> {
  const dir = dirname(path);
  const temporary = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true });
    const handle = await open(temporary, 'w', mode);
    try {
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}
