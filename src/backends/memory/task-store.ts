import { expiresAt, isTerminal, TaskLimitError, type TaskRecord, type TaskStore, type TaskStoreLimits } from '../../tasks/task-store.js';

const copy = (record: TaskRecord): TaskRecord => structuredClone(record);

/** One process: records in a Map, copied in and out so no caller shares an object with the store. */
export class InMemoryTaskStore implements TaskStore {
  readonly kind = 'memory' as const;
  private readonly records = new Map<string, TaskRecord>();
  private readonly owned = new Map<string, Set<string>>();

  constructor(private readonly now: () => number = Date.now) {}

  private live(taskId: string): TaskRecord | undefined {
    const record = this.records.get(taskId);
    if (record && expiresAt(record) <= this.now()) {
      this.records.delete(taskId);
      return undefined;
    }
    return record;
  }

  private purgeExpired(): void {
    for (const taskId of [...this.records.keys()]) this.live(taskId);
  }

  private index(owner: string | undefined, taskId: string): void {
    if (owner === undefined) return;
    let ids = this.owned.get(owner);
    if (!ids) this.owned.set(owner, (ids = new Set()));
    ids.add(taskId);
  }

  async create(record: TaskRecord, limits: TaskStoreLimits): Promise<void> {
    if (this.records.size >= limits.maxStored) this.purgeExpired();
    if (this.records.size >= limits.maxStored) throw new TaskLimitError('stored', limits.maxStored);
    // No await between the checks and the insert: concurrent creates see each other.
    if (this.activeOf(record.principal) >= limits.maxActivePerPrincipal) {
      throw new TaskLimitError('active_per_principal', limits.maxActivePerPrincipal);
    }
    if (this.live(record.taskId)) throw new Error(`task ${record.taskId} exists`);
    this.index(record.owner, record.taskId);
    this.records.set(record.taskId, { ...copy(record), version: 1 });
  }

  async get(taskId: string): Promise<TaskRecord | undefined> {
    const record = this.live(taskId);
    return record && copy(record);
  }

  async getMany(taskIds: readonly string[]): Promise<Array<TaskRecord | undefined>> {
    return Promise.all(taskIds.map((id) => this.get(id)));
  }

  async compareAndSet(next: TaskRecord): Promise<boolean> {
    const current = this.live(next.taskId);
    if (!current || current.version !== next.version - 1 || isTerminal(current.status)) return false;
    this.index(next.owner, next.taskId);
    this.records.set(next.taskId, copy(next));
    if (current.owner !== undefined && current.owner !== next.owner) await this.unindex(current.owner, [next.taskId]);
    return true;
  }

  async owners(): Promise<string[]> {
    return [...this.owned.keys()];
  }

  async ownedBy(owner: string): Promise<string[]> {
    return [...(this.owned.get(owner) ?? [])];
  }

  async unindex(owner: string, taskIds: readonly string[]): Promise<void> {
    const ids = this.owned.get(owner);
    if (!ids) return;
    for (const id of taskIds) ids.delete(id);
    if (ids.size === 0) this.owned.delete(owner);
  }

  async countActive(principal: string): Promise<number> {
    return this.activeOf(principal);
  }

  private activeOf(principal: string): number {
    let count = 0;
    for (const taskId of [...this.records.keys()]) {
      const record = this.live(taskId);
      if (record && record.principal === principal && !isTerminal(record.status)) count += 1;
    }
    return count;
  }

  async close(): Promise<void> {
    this.records.clear();
    this.owned.clear();
  }
}
