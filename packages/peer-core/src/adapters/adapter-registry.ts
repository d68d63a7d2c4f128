import { PeerConfigError, PeerError } from '../errors/peer-error.js';
import type { LoraAdapter } from './lora-adapter.js';

/**
 * The adapters a model can use, by name and version. Versions of a name keep their order of registration;
 * "latest" is the last registered. The registry owns the adapters (it disposes them).
 */
export class AdapterRegistry {
  private readonly byName = new Map<string, LoraAdapter[]>();

  /** Registers an adapter; a second `name@version` is an error (versions are immutable). */
  add(adapter: LoraAdapter): void {
    const versions = this.byName.get(adapter.name) ?? [];
    if (versions.some((a) => a.version === adapter.version)) {
      throw new PeerConfigError('adapter', `a new name@version (already registered)`, adapter.id);
    }
    versions.push(adapter);
    this.byName.set(adapter.name, versions);
  }

  /** `name@version`, or the latest version of `name`; a typed error when absent. */
  get(name: string, version?: string): LoraAdapter {
    const versions = this.byName.get(name) ?? [];
    const found =
      version === undefined ? versions[versions.length - 1] : versions.find((a) => a.version === version);
    if (!found)
      throw new PeerError(
        'adapter_not_found',
        `no adapter ${version === undefined ? name : `${name}@${version}`}`,
      );
    return found;
  }

  /** The latest version of every name: the candidates of `auto` retrieval. */
  latest(): LoraAdapter[] {
    return [...this.byName.values()]
      .map((v) => v[v.length - 1])
      .filter((a): a is LoraAdapter => a !== undefined);
  }

  /** Every registered adapter. */
  all(): LoraAdapter[] {
    return [...this.byName.values()].flat();
  }

  get size(): number {
    return this.all().length;
  }

  /** Removes (and disposes) one version. */
  remove(name: string, version: string): void {
    const adapter = this.get(name, version);
    const rest = (this.byName.get(name) ?? []).filter((a) => a !== adapter);
    if (rest.length > 0) this.byName.set(name, rest);
    else this.byName.delete(name);
    adapter.dispose();
  }

  dispose(): void {
    for (const a of this.all()) a.dispose();
    this.byName.clear();
  }
}
