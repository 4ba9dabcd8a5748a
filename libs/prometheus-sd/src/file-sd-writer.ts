import { readFile } from 'node:fs/promises';

import { writeFileAtomically } from './atomic-file';
import { renderTargetGroups, TargetGroup } from './target-group';

export class FileSdWriteError extends Error {
  constructor(
    readonly path: string,
    override readonly cause: unknown,
  ) {
    const message = (cause as { message?: unknown } | null)?.message;
    const reason = typeof message === 'string' ? message : String(cause);
    super(`cannot write service discovery file ${path}: ${reason}`);
  }
}

export interface WriteResult {
  /** False when the file already held exactly this content. */
  written: boolean;
  path: string;
  content: string;
}

/**
 * Writes a file_sd JSON file atomically: the content goes to a temporary file in the same directory, whose name
 * ends in `.tmp` so that a `*.json` glob never matches it, is flushed, then renamed over the target. A reader sees
 * the old file or the new one, never a partial one. Unchanged content is not rewritten (Prometheus re-reads on
 * every change).
 */
export class FileSdWriter {
  private lastContent?: string;

  constructor(readonly path: string) {}

  async write(groups: readonly TargetGroup[]): Promise<WriteResult> {
    const content = renderTargetGroups(groups);
    if (content === (this.lastContent ?? (await this.readCurrent()))) {
      this.lastContent = content;
      return { written: false, path: this.path, content };
    }
    try {
      await writeFileAtomically(this.path, content);
    } catch (error) {
      this.lastContent = undefined;
      throw new FileSdWriteError(this.path, error);
    }
    this.lastContent = content;
    return { written: true, path: this.path, content };
  }

  private async readCurrent(): Promise<string | undefined> {
    try {
      return await readFile(this.path, 'utf8');
    } catch {
      return undefined;
    }
  }
}
