// The host-side credential cache, keyed by the session's `cache-key()`.
//
// Lifetime as the component's own cache and Flux's token cache: an entry
// is reused until 80% of the credentials' lifetime (counted from when they
// were stored) has passed, and at most one hour; credentials without an
// expiry, or already expired, are not stored. At most `capacity` entries,
// the least recently used evicted first.

export const CAPACITY = 256;
export const MAX_DURATION = 3600;

export class CredentialCache {
  constructor(capacity = CAPACITY) {
    this.capacity = capacity;
    this.entries = new Map();
  }

  /** The value stored under `key` if still fresh at `now` (Unix seconds). */
  get(key, now) {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (now >= entry.reuseUntil) {
      this.entries.delete(key);
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Stores `value`, which expires at `expiresAt` (Unix seconds or undefined). */
  set(key, value, expiresAt, now) {
    if (expiresAt === undefined || expiresAt <= now) return;
    const lifetime = Math.min(Math.floor(((expiresAt - now) * 4) / 5), MAX_DURATION);
    if (lifetime <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { value, reuseUntil: now + lifetime });
    while (this.entries.size > this.capacity) {
      this.entries.delete(this.entries.keys().next().value);
    }
  }

  clear() {
    this.entries.clear();
  }

  get size() {
    return this.entries.size;
  }
}
